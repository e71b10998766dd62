import { useState } from 'react';
import { QueryClientProvider } from '@tanstack/react-query';
import { createHashRouter, RouterProvider } from 'react-router';
import { createApiClient } from './api/client';
import { createQueryClient } from './api/queryClient';
import { ServicesProvider, type Services } from './api/services';
import { JobsTray } from './components/JobsTray';
import { Toasts } from './components/Toasts';
import { TokenDialog } from './components/TokenDialog';
import type { AppConfig } from './config';
import { routes } from './routes';
import { createJobStore } from './state/jobs';
import { createSession } from './state/session';
import { createToastStore } from './state/toasts';

export function createServices(config: AppConfig, fetchImpl?: typeof fetch): Services {
  const toasts = createToastStore();
  const session = createSession();
  const api = createApiClient({
    baseUrl: config.apiBaseUrl,
    getToken: session.token.get,
    onUnauthorized: () => session.tokenRequested.set(true),
    fetchImpl,
  });
  return { api, session, toasts, jobs: createJobStore() };
}

/**
 * Hash routing (#/projects/…) so the static build works from S3/CloudFront or any file server
 * without rewrite rules.
 */
export function App({ services }: { services: Services }) {
  const [queryClient] = useState(() => createQueryClient(services.toasts));
  const [router] = useState(() => createHashRouter(routes));
  return (
    <ServicesProvider services={services}>
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
        <JobsTray />
        <Toasts />
        <TokenDialog />
      </QueryClientProvider>
    </ServicesProvider>
  );
}
