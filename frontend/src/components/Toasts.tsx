import { useEffect } from 'react';
import { useServices } from '../api/services';
import { useStore } from '../state/store';
import type { Toast } from '../state/toasts';

const TOAST_MS = 10_000;

function ToastItem({ toast, dismiss }: { toast: Toast; dismiss: (id: number) => void }) {
  useEffect(() => {
    const timer = window.setTimeout(() => dismiss(toast.id), TOAST_MS);
    return () => window.clearTimeout(timer);
  }, [toast.id, dismiss]);
  return (
    <li className="flex items-start gap-3 rounded-md border border-red-300 bg-white p-3 text-sm shadow-lg" data-testid="toast">
      <div className="min-w-0 flex-1">
        <p className="font-medium text-red-800">{toast.message}</p>
        {toast.requestId && (
          <p className="mt-1 font-mono text-xs text-slate-500">
            request id: <span className="select-all">{toast.requestId}</span>
          </p>
        )}
      </div>
      <button type="button" className="rounded px-1 text-slate-500 hover:text-slate-900" onClick={() => dismiss(toast.id)} aria-label="Dismiss message">
        ×
      </button>
    </li>
  );
}

/** Error messages, announced to screen readers as they arrive. */
export function Toasts() {
  const { toasts } = useServices();
  const items = useStore(toasts);
  return (
    <div aria-live="assertive" role="region" aria-label="Messages" className="pointer-events-none fixed right-4 bottom-4 z-[60] w-96 max-w-[calc(100vw-2rem)]">
      <ul className="pointer-events-auto flex flex-col gap-2">
        {items.map((toast) => (
          <ToastItem key={toast.id} toast={toast} dismiss={toasts.dismiss} />
        ))}
      </ul>
    </div>
  );
}
