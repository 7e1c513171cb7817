/** A benchmark that cannot run or whose run went wrong: reported with a clear message, exit code 1. */
export class BenchError extends Error {
  override readonly name = "BenchError";
}
