import '@testing-library/jest-dom/vitest';
import { configure } from '@testing-library/react';
import { afterEach, vi } from 'vitest';
import { FakePlot } from './fakePlot';

// jsdom has no canvas: the burn-up chart's uPlot is replaced by a stand-in that records what it was given.
vi.mock('uplot', () => ({ default: FakePlot }));

// The first render of a view imports its lazy chunk; on a busy 2-core machine that can take
// seconds, so findBy* waits up to 5 s instead of 1 s.
configure({ asyncUtilTimeout: 5000 });

// jsdom does no layout; give scroll containers and rows a size so the virtualized tree renders rows.
Object.defineProperty(HTMLElement.prototype, 'clientHeight', { configurable: true, get: () => 800 });
Object.defineProperty(HTMLElement.prototype, 'clientWidth', { configurable: true, get: () => 1000 });
Object.defineProperty(HTMLElement.prototype, 'offsetHeight', { configurable: true, get: () => 36 });
Object.defineProperty(HTMLElement.prototype, 'offsetWidth', { configurable: true, get: () => 1000 });

afterEach(() => {
  window.localStorage.clear();
  window.location.hash = '';
});
