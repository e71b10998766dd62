import { render } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { App, createServices } from '../App';
import { API } from './fakeApi';

/** Renders the real app at `hash` (e.g. "#/projects/p1") against a fake fetch. */
export function renderApp(hash: string, fetchImpl: typeof fetch) {
  window.location.hash = hash;
  const services = createServices({ apiBaseUrl: API }, fetchImpl);
  const user = userEvent.setup();
  return { user, services, ...render(<App services={services} />) };
}
