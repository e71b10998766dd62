import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useDeleteProject, useExportProject, useUpdateProject } from '../../api/mutations';
import { useProjectDetail } from '../../api/queries';
import type { Project } from '../../api/types';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ProgressBar } from '../../components/ProgressBar';

/** One project: link, progress, rename, export, delete. */
export function ProjectRow({ project }: { project: Project }) {
  const detail = useProjectDetail(project.id);
  const rename = useUpdateProject(project.id);
  const remove = useDeleteProject();
  const exportProject = useExportProject();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(project.name);
  const [confirming, setConfirming] = useState(false);

  const submitRename = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed || trimmed === project.name) {
      setEditing(false);
      return;
    }
    rename.mutate({ name: trimmed }, { onSuccess: () => setEditing(false) });
  };

  return (
    <li className="flex flex-wrap items-center gap-4 rounded-lg border border-slate-200 bg-white p-4" data-testid="project-row" data-project-id={project.id}>
      <div className="min-w-64 flex-1">
        {editing ? (
          <form
            onSubmit={submitRename}
            className="flex gap-2"
            onKeyDown={(e) => {
              if (e.key === 'Escape') setEditing(false);
            }}
          >
            <label className="sr-only" htmlFor={`rename-${project.id}`}>
              New name for {project.name}
            </label>
            <input id={`rename-${project.id}`} className="field flex-1" value={name} onChange={(e) => setName(e.target.value)} maxLength={255} autoFocus />
            <button type="submit" className="btn btn-primary" disabled={rename.isPending}>
              Save
            </button>
            <button type="button" className="btn" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </form>
        ) : (
          <Link to={`/projects/${project.id}`} className="text-base font-semibold text-blue-800 hover:underline">
            {project.name}
          </Link>
        )}
        {project.description && <p className="text-sm text-slate-600">{project.description}</p>}
        <div className="mt-2 max-w-sm">
          {detail.data ? (
            <ProgressBar label={`Points done in ${project.name}`} value={detail.data.points_completed} max={detail.data.points_total} />
          ) : (
            <span className="text-xs text-slate-400">{detail.isPending ? 'Loading progress…' : 'Progress unavailable'}</span>
          )}
        </div>
        {detail.data && (
          <p className="mt-1 text-xs text-slate-500">
            {detail.data.task_count} tasks · {detail.data.status_counts.done} done · {detail.data.active_locks} locked
          </p>
        )}
      </div>
      <div className="flex flex-wrap gap-2">
        {!editing && (
          <button
            type="button"
            className="btn"
            onClick={() => {
              setName(project.name);
              setEditing(true);
            }}
            aria-label={`Rename ${project.name}`}
          >
            Rename
          </button>
        )}
        <button
          type="button"
          className="btn"
          disabled={exportProject.isPending}
          onClick={() => exportProject.mutate({ projectId: project.id, name: project.name, format: 'json' })}
          aria-label={`Export ${project.name} as JSON`}
        >
          Export JSON
        </button>
        <button
          type="button"
          className="btn"
          disabled={exportProject.isPending}
          onClick={() => exportProject.mutate({ projectId: project.id, name: project.name, format: 'markdown' })}
          aria-label={`Export ${project.name} as Markdown`}
        >
          Export Markdown
        </button>
        <button type="button" className="btn btn-danger" onClick={() => setConfirming(true)} aria-label={`Delete ${project.name}`}>
          Delete
        </button>
      </div>
      {confirming && (
        <ConfirmDialog
          title={`Delete “${project.name}”?`}
          confirmLabel="Delete project"
          busy={remove.isPending}
          onCancel={() => setConfirming(false)}
          onConfirm={() => remove.mutate(project.id, { onSettled: () => setConfirming(false) })}
        >
          Every task, work log entry, commit and lock in this project is deleted for good.
          {detail.data ? ` That is ${detail.data.task_count} tasks.` : ''}
        </ConfirmDialog>
      )}
    </li>
  );
}
