import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { ApiError } from './client';
import type { ToastStore } from '../state/toasts';

declare module '@tanstack/react-query' {
  interface Register {
    mutationMeta: { inlineErrors?: boolean };
  }
}

/** Shows every failed read or write as a toast with the API's message and request id. */
function reportError(toasts: ToastStore, error: unknown): void {
  if (error instanceof ApiError) {
    // A 401 opens the token dialog instead.
    if (error.status === 401) return;
    toasts.push({ message: error.message, requestId: error.requestId });
    return;
  }
  toasts.push({ message: error instanceof Error ? error.message : String(error), requestId: null });
}

export function createQueryClient(toasts: ToastStore): QueryClient {
  return new QueryClient({
    queryCache: new QueryCache({ onError: (error) => reportError(toasts, error) }),
    mutationCache: new MutationCache({
      // A form that shows its own error (meta.inlineErrors) gets no toast.
      onError: (error, _variables, _result, mutation) => {
        if (!mutation.meta?.inlineErrors) reportError(toasts, error);
      },
    }),
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        refetchOnWindowFocus: true,
        // Client errors will not change on retry; network trouble and 5xx may.
        retry: (count, error) => count < 2 && (!(error instanceof ApiError) || error.status === 0 || error.status >= 500),
      },
    },
  });
}
