import { createContext, useContext, type ReactNode } from 'react';
import type { ApiClient } from './client';
import type { JobStore } from '../state/jobs';
import type { Session } from '../state/session';
import type { ToastStore } from '../state/toasts';

export interface Services {
  api: ApiClient;
  session: Session;
  toasts: ToastStore;
  /** Background jobs being followed (the jobs tray). */
  jobs: JobStore;
}

const ServicesContext = createContext<Services | null>(null);

export function ServicesProvider({ services, children }: { services: Services; children: ReactNode }) {
  return <ServicesContext.Provider value={services}>{children}</ServicesContext.Provider>;
}

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error('useServices outside ServicesProvider');
  return services;
}

export function useApi(): ApiClient {
  return useServices().api;
}
