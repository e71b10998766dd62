import { createStore, type Store } from './store';

export interface Toast {
  id: number;
  message: string;
  requestId: string | null;
}

export interface ToastStore extends Store<Toast[]> {
  push: (toast: Omit<Toast, 'id'>) => void;
  dismiss: (id: number) => void;
}

export function createToastStore(): ToastStore {
  const store = createStore<Toast[]>([]);
  let nextId = 1;
  return {
    ...store,
    push: (toast) => store.set([...store.get(), { ...toast, id: nextId++ }]),
    dismiss: (id) => store.set(store.get().filter((t) => t.id !== id)),
  };
}
