import { Component, type ReactNode } from 'react';

/** Shows `fallback` instead of a part that failed to render (e.g. a chart whose chunk did not load). */
export class ErrorBoundary extends Component<{ fallback: ReactNode; children: ReactNode }, { failed: boolean }> {
  state = { failed: false };

  static getDerivedStateFromError() {
    return { failed: true };
  }

  render() {
    return this.state.failed ? this.props.fallback : this.props.children;
  }
}
