import { useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useServices } from '../api/services';
import { useStore } from '../state/store';
import { Modal } from './Modal';

/** Shown when the API answers 401: asks for a bearer token, keeps it in localStorage, retries. */
export function TokenDialog() {
  const { session } = useServices();
  const requested = useStore(session.tokenRequested);
  const queryClient = useQueryClient();
  const [value, setValue] = useState('');
  if (!requested) return null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const token = value.trim();
    if (!token) return;
    session.saveToken(token);
    setValue('');
    void queryClient.invalidateQueries();
  };

  return (
    <Modal title="API token needed" onClose={() => session.tokenRequested.set(false)}>
      <form onSubmit={submit} className="flex flex-col gap-3">
        <p className="text-sm text-slate-600">The Chorus API asked for authentication. Paste your token; it is kept in this browser.</p>
        <label className="flex flex-col gap-1 text-sm font-medium">
          API token
          <input type="password" className="field" value={value} onChange={(e) => setValue(e.target.value)} autoComplete="off" required data-autofocus />
        </label>
        <div className="flex justify-end gap-2">
          <button type="button" className="btn" onClick={() => session.tokenRequested.set(false)}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary">
            Save token
          </button>
        </div>
      </form>
    </Modal>
  );
}
