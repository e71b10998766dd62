import type { ReactNode } from 'react';
import { Modal } from './Modal';

interface ConfirmDialogProps {
  title: string;
  confirmLabel: string;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
  children: ReactNode;
}

/** Asks before a destructive action; Cancel has the focus so Enter does no harm. */
export function ConfirmDialog({ title, confirmLabel, busy = false, onConfirm, onCancel, children }: ConfirmDialogProps) {
  return (
    <Modal title={title} role="alertdialog" onClose={onCancel}>
      <div className="mb-4 text-sm text-slate-700">{children}</div>
      <div className="flex justify-end gap-2">
        <button type="button" className="btn" onClick={onCancel} data-autofocus>
          Cancel
        </button>
        <button type="button" className="btn btn-danger" onClick={onConfirm} disabled={busy}>
          {busy ? 'Working…' : confirmLabel}
        </button>
      </div>
    </Modal>
  );
}
