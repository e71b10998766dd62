import { Suspense } from 'react';
import { Link, Outlet } from 'react-router';
import { ActorField } from './components/ActorField';
import { Loading } from './components/Status';

/** Top bar and the routed view below it. */
export function AppShell() {
  return (
    <div className="flex h-screen flex-col">
      <div className="flex items-center gap-4 bg-slate-900 px-6 py-2 text-white">
        <Link to="/" className="text-lg font-bold tracking-tight">
          Chorus
        </Link>
        <Link to="/" className="text-sm text-slate-300 hover:text-white">
          Projects
        </Link>
        <div className="flex-1" />
        <ActorField />
      </div>
      <div className="min-h-0 flex-1">
        <Suspense fallback={<Loading label="Loading…" />}>
          <Outlet />
        </Suspense>
      </div>
    </div>
  );
}
