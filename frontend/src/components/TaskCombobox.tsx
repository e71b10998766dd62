import { useId, useMemo, useState, type KeyboardEvent } from 'react';
import type { Task } from '../api/types';
import { STATUS_LABEL } from '../domain/format';

interface TaskComboboxProps {
  label: string;
  /** The tasks to choose from (already loaded by the app). */
  tasks: readonly Task[];
  onSelect: (task: Task) => void;
  /** A second line for an option, e.g. the parent's name, to tell same-named tasks apart. */
  describe?: (task: Task) => string | null;
  placeholder?: string;
  disabled?: boolean;
}

const MAX_OPTIONS = 20;

/**
 * Picks a task by typing part of its name (ARIA 1.2 combobox with a listbox popup): ↓/↑ move
 * through the matches, Enter picks, Escape closes the list (and only the list).
 */
export function TaskCombobox({ label, tasks, onSelect, describe, placeholder = 'Type a task name', disabled = false }: TaskComboboxProps) {
  const id = useId();
  const listId = `${id}-list`;
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);

  const matches = useMemo(() => {
    const needle = text.trim().toLowerCase();
    const found = needle ? tasks.filter((task) => task.name.toLowerCase().includes(needle)) : tasks;
    return found.slice(0, MAX_OPTIONS);
  }, [tasks, text]);
  const shown = open && matches.length > 0;
  const activeIndex = Math.min(active, matches.length - 1);

  const pick = (task: Task | undefined) => {
    if (!task) return;
    onSelect(task);
    setText('');
    setOpen(false);
    setActive(0);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        if (!open) setOpen(true);
        else setActive((i) => (matches.length ? (Math.min(i, matches.length - 1) + 1) % matches.length : 0));
        break;
      case 'ArrowUp':
        event.preventDefault();
        if (!open) setOpen(true);
        else setActive((i) => (matches.length ? (Math.min(i, matches.length - 1) - 1 + matches.length) % matches.length : 0));
        break;
      case 'Enter':
        if (shown) {
          event.preventDefault();
          pick(matches[activeIndex]);
        }
        break;
      case 'Escape':
        if (open) {
          // Closes the list, not the dialog around it.
          event.preventDefault();
          event.stopPropagation();
          setOpen(false);
        }
        break;
      default:
        break;
    }
  };

  return (
    <div className="relative flex flex-col gap-1">
      <label htmlFor={`${id}-input`} className="text-xs font-medium text-slate-600">
        {label}
      </label>
      <input
        id={`${id}-input`}
        type="text"
        role="combobox"
        aria-expanded={shown}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={shown ? `${id}-opt-${activeIndex}` : undefined}
        autoComplete="off"
        className="field"
        placeholder={placeholder}
        value={text}
        disabled={disabled}
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
          setActive(0);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={onKeyDown}
      />
      <ul
        id={listId}
        role="listbox"
        aria-label={label}
        hidden={!shown}
        className="absolute top-full right-0 left-0 z-10 mt-1 max-h-64 overflow-y-auto rounded-md border border-slate-300 bg-white py-1 shadow-lg"
      >
        {shown &&
          matches.map((task, i) => {
            const detail = describe?.(task);
            return (
              <li
                key={task.id}
                id={`${id}-opt-${i}`}
                role="option"
                aria-selected={i === activeIndex}
                // Keeps the focus in the input, so the pick happens on click.
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => pick(task)}
                onMouseEnter={() => setActive(i)}
                className={`cursor-pointer px-2 py-1 text-sm ${i === activeIndex ? 'bg-blue-100' : ''}`}
              >
                <span className="font-medium">{task.name}</span>{' '}
                <span className="text-xs text-slate-500">
                  {STATUS_LABEL[task.status]}
                  {detail ? ` · ${detail}` : ''}
                </span>
              </li>
            );
          })}
      </ul>
      {open && text.trim() !== '' && matches.length === 0 && (
        <p className="text-xs text-slate-500" role="status">
          No task matches “{text.trim()}”.
        </p>
      )}
    </div>
  );
}
