import { useCallback } from 'react';
import { useParams, useSearchParams } from 'react-router';

/** The task shown in the slide-out lives in the URL (?task=<id>), so it can be linked and survives reloads. */
export function useTaskParam() {
  const [params, setParams] = useSearchParams();
  const open = useCallback(
    (taskId: string) =>
      setParams((current) => {
        const next = new URLSearchParams(current);
        next.set('task', taskId);
        return next;
      }),
    [setParams],
  );
  const close = useCallback(
    () =>
      setParams((current) => {
        const next = new URLSearchParams(current);
        next.delete('task');
        return next;
      }),
    [setParams],
  );
  /** A link target that opens `taskId` in the slide-out over the current view. */
  const hrefFor = useCallback(
    (taskId: string) => {
      const next = new URLSearchParams(params);
      next.set('task', taskId);
      return { search: `?${next.toString()}` };
    },
    [params],
  );
  return { taskId: params.get('task'), open, close, hrefFor };
}

export function useProjectId(): string {
  const { projectId } = useParams();
  if (!projectId) throw new Error('route has no :projectId');
  return projectId;
}
