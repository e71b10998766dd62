import { describe, expect, it } from 'vitest';
import type { Task } from '../api/types';
import { makeTask } from '../test/fakeApi';
import { describeWaiting } from './waiting';

const backfill = makeTask({ id: 'backfill', name: 'Backfill', status: 'doing' });
const schema = makeTask({ id: 'schema', name: 'Schema', status: 'todo' });
const docs = makeTask({ id: 'docs', name: 'Docs', status: 'done' });
const epic = makeTask({ id: 'epic', name: 'Cut-over', blocked_by: ['backfill', 'docs'], open_blockers: 1, waiting: true });
const step = makeTask({ id: 'step', name: 'Switch DNS', parent_task_id: 'epic', waiting: true });
const all = new Map<string, Task>([backfill, schema, docs, epic, step].map((t) => [t.id, t]));
const lookup = (id: string) => all.get(id);

describe('describeWaiting', () => {
  it('is null for a task that does not wait', () => {
    expect(describeWaiting(backfill, lookup)).toBeNull();
  });

  it('counts its open blockers and names them (done ones satisfy the edge)', () => {
    expect(describeWaiting(epic, lookup)).toMatchObject({ count: 1, ancestor: null, label: 'waits for 1', explanation: 'Waits for “Backfill”.' });
    const two = makeTask({ blocked_by: ['backfill', 'schema'], open_blockers: 2, waiting: true });
    expect(describeWaiting(two, lookup)?.explanation).toBe('Waits for “Backfill” and “Schema”.');
  });

  it('says when the waiting comes from an ancestor', () => {
    expect(describeWaiting(step, lookup)).toMatchObject({
      count: 0,
      label: 'waits (ancestor)',
      explanation: 'An ancestor, “Cut-over”, waits for “Backfill”.',
    });
  });

  it('counts blockers it cannot name', () => {
    const far = makeTask({ blocked_by: ['backfill', 'elsewhere'], open_blockers: 2, waiting: true });
    expect(describeWaiting(far, lookup)?.explanation).toBe('Waits for “Backfill” and 1 more.');
    const orphan = makeTask({ parent_task_id: 'unknown', waiting: true });
    expect(describeWaiting(orphan, lookup)?.explanation).toBe('An ancestor waits for another task.');
  });
});
