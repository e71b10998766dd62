// Project "seed": runs beside the scenarios; the "budgets" project, which measures, runs after it.
import { SHAPES, seedBigTree } from './big-trees';
import { expect, test } from './fixtures';

for (const shape of SHAPES) {
  test(`seed a 2000-task tree (${shape.label})`, async ({ api }) => {
    test.setTimeout(180_000); // 6–8 s here, several times that on a busy machine
    const started = Date.now();
    const id = await seedBigTree(api, shape);
    const detail = await api.get(`/projects/${id}`);
    expect(detail.task_count, 'seeded tasks').toBe(2000);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    test.info().annotations.push({ type: 'measurement', description: `2000-task tree (${shape.key}): seeded in ${seconds} s` });
  });
}
