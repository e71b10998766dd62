import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { useCreateProject } from '../../api/mutations';

/** Name and optional description; opens the new project. */
export function CreateProjectForm() {
  const create = useCreateProject();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return;
    create.mutate(
      { name: trimmed, ...(description.trim() ? { description: description.trim() } : {}) },
      { onSuccess: (project) => void navigate(`/projects/${project.id}`) },
    );
  };
  return (
    <form onSubmit={submit} className="flex flex-wrap items-end gap-2" aria-label="Create project">
      <label className="flex flex-col text-xs font-medium text-slate-600">
        Project name
        <input className="field w-64" value={name} onChange={(e) => setName(e.target.value)} maxLength={255} required />
      </label>
      <label className="flex flex-col text-xs font-medium text-slate-600">
        Description (optional)
        <input className="field w-80" value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <button type="submit" className="btn btn-primary" disabled={create.isPending || !name.trim()}>
        Create project
      </button>
    </form>
  );
}
