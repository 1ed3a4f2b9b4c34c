/** Step-by-step console output for the demo: numbered steps, indented details, a summary line. */
export class Progress {
  private n = 0;
  private readonly color = process.stdout.isTTY === true;

  constructor(private readonly total: number) {}

  private paint(code: number, s: string): string {
    return this.color ? `\x1b[${code}m${s}\x1b[0m` : s;
  }

  step(title: string): void {
    this.n++;
    console.log(`\n${this.paint(1, `[${this.n}/${this.total}]`)} ${title}`);
  }

  detail(text: string): void {
    console.log(`      ${text}`);
  }

  fail(text: string): void {
    console.log(`      ${this.paint(31, `✗ ${text}`)}`);
  }

  done(title: string): void {
    console.log(`\n${this.paint(1, '[done]')} ${title}`);
  }

  summary(ok: boolean, text: string): void {
    console.log(`\n${ok ? this.paint(32, '✓') : this.paint(31, '✗')} ${text}`);
  }
}
