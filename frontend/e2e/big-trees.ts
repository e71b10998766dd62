// The two 2000-task projects of the time-to-interactive budget: many shallow epics (41 requests to
// load) and fewer deep ones (17). big-trees.setup.ts seeds them, budgets.spec.ts measures them.
import type { ApiClient } from './api';

/** [name prefix, children per parent] of one level below an epic. */
type Level = [string, number];

export interface Shape {
  key: string;
  label: string;
  /** Number of top-level tasks (epics). */
  top: number;
  /** The levels below epic i. */
  seed: (i: number) => Level[];
}

export const SHAPES: Shape[] = [
  { key: 'wide', label: '40 epics × 49 tasks', top: 40, seed: (i) => [[`Task ${i}`, 49]] },
  { key: 'deep', label: '16 epics × 4 stories × 30 tasks', top: 16, seed: (i) => [[`Story ${i}`, 4], [`Task ${i}`, 30]] },
];

const projectName = (shape: Shape) => `Big tree, ${shape.key}`;

/** The shape's projects on the server (normally one; none before seeding). */
export async function bigTreeProjects(api: ApiClient, shape: Shape): Promise<{ id: string }[]> {
  const projects: { id: string; name: string }[] = await api.get('/projects?limit=100');
  return projects.filter((p) => p.name === projectName(shape));
}

/** Seeds the shape's project through the API (replacing one left by an earlier attempt); answers its id. */
export async function seedBigTree(api: ApiClient, shape: Shape): Promise<string> {
  for (const old of await bigTreeProjects(api, shape)) await api.call('DELETE', `/projects/${old.id}`);
  const big = await api.post('/projects', { name: projectName(shape) });
  // Each level is made by a breakdown (≤ 50 children a call) of tasks sized 8 (so they need one).
  const grow = async (taskId: string, levels: Level[], path: string): Promise<void> => {
    const [[prefix, count], ...rest] = levels as [Level, ...Level[]];
    const result = await api.breakdown(
      taskId,
      Array.from({ length: count }, (_, j) => ({
        name: `${prefix}.${path}${j}`,
        task_type: j % 3 ? 'feature' : 'bug',
        ...(rest.length ? { points: 8 } : {}),
      })),
    );
    if (rest.length) for (const [j, child] of (result.subtasks as { id: string }[]).entries()) await grow(child.id, rest, `${path}${j}.`);
  };
  const epics: { id: string }[] = [];
  for (let i = 0; i < shape.top; i += 1) {
    epics.push(await api.post(`/projects/${big.id}/tasks`, { name: `Epic ${i}`, task_type: 'feature', points: 8 }));
  }
  for (let i = 0; i < epics.length; i += 4) {
    await Promise.all(epics.slice(i, i + 4).map((epic, k) => grow(epic.id, shape.seed(i + k), '')));
  }
  return big.id;
}
