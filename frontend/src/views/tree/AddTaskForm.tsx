import { useId, useRef, useState, type FormEvent } from 'react';
import { TASK_TYPES, type TaskType } from '../../api/types';
import { TYPE_LABEL } from '../../domain/format';

interface AddTaskFormProps {
  /** Names the parent in labels ("Add subtask to X"), or null for a top-level task. */
  parentName: string | null;
  onSubmit: (name: string, taskType: TaskType) => Promise<unknown>;
  onCancel?: () => void;
}

/** Name + type, inline. Escape cancels; the form clears and keeps the focus on submit. */
export function AddTaskForm({ parentName, onSubmit, onCancel }: AddTaskFormProps) {
  const input = useRef<HTMLInputElement>(null);
  const [name, setName] = useState('');
  const [taskType, setTaskType] = useState<TaskType>('feature');
  const id = useId();
  const what = parentName === null ? 'New task' : `New subtask of ${parentName}`;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return;
    // Cleared at once so the next name can be typed (and sent) while this one is saved.
    setName('');
    input.current?.focus();
    try {
      await onSubmit(trimmed, taskType);
    } catch {
      // The toast says why; the name comes back for another try unless something new was typed.
      setName((current) => (current === '' ? trimmed : current));
    }
  };

  return (
    <form
      onSubmit={submit}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && onCancel) onCancel();
      }}
      className="flex flex-wrap items-center gap-2"
      aria-label={what}
    >
      <label className="sr-only" htmlFor={`${id}-name`}>
        {what} name
      </label>
      <input
        ref={input}
        id={`${id}-name`}
        className="field min-w-48 flex-1"
        placeholder={parentName === null ? 'New task name' : 'Subtask name'}
        value={name}
        onChange={(e) => setName(e.target.value)}
        maxLength={500}
        autoFocus={parentName !== null}
      />
      <label className="sr-only" htmlFor={`${id}-type`}>
        {what} type
      </label>
      <select id={`${id}-type`} className="field" value={taskType} onChange={(e) => setTaskType(e.target.value as TaskType)}>
        {TASK_TYPES.map((t) => (
          <option key={t} value={t}>
            {TYPE_LABEL[t]}
          </option>
        ))}
      </select>
      <button type="submit" className="btn btn-primary" disabled={!name.trim()}>
        {parentName === null ? 'Add task' : 'Add subtask'}
      </button>
      {onCancel && (
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
      )}
    </form>
  );
}
