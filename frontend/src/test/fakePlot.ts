/** Stands in for uPlot in jsdom (no canvas): keeps the options and the data it was given. */
export class FakePlot {
  static last: FakePlot | null = null;
  data: unknown;
  readonly root: HTMLElement;

  constructor(
    readonly opts: unknown,
    data: unknown,
    target: HTMLElement,
  ) {
    this.data = data;
    this.root = document.createElement('div');
    this.root.className = 'uplot';
    this.root.appendChild(document.createElement('canvas'));
    target.appendChild(this.root);
    FakePlot.last = this;
  }

  setData(data: unknown) {
    this.data = data;
  }

  destroy() {
    this.root.remove();
  }
}
