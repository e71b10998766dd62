import type { ChangeEvent } from 'react';
import { useNavigate } from 'react-router';
import { useImportProject } from '../../api/mutations';

/** Uploads a JSON export as a new project (SPEC §7) and opens it. */
export function ImportButton() {
  const importProject = useImportProject();
  const navigate = useNavigate();
  const onFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (!file) return;
    const text = await file.text();
    // An inline import is done at once; an import through an upload is a job the jobs tray follows.
    importProject.mutate(
      { text, fileName: file.name },
      { onSuccess: (result) => result.kind === 'done' && void navigate(`/projects/${result.value.id}`) },
    );
  };
  return (
    <label className="btn focus-within:outline-2 focus-within:outline-offset-2 focus-within:outline-blue-600">
      {importProject.isPending ? 'Importing…' : 'Import project (JSON export)…'}
      <input type="file" accept="application/json,.json" className="sr-only" onChange={(e) => void onFile(e)} disabled={importProject.isPending} />
    </label>
  );
}
