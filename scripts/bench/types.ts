/** One line of `npm run bench` (also one JSON object per line with `--json`). */
export interface BenchRow {
  /** tfjs backend (tensorflow, wasm, cpu), `pytorch-cpu`, or a pipeline label for data rows. */
  backend: string;
  /** What ran: `reference-cnn`, a source model's name, or a data-pipeline step. */
  model: string;
  /** Side of the square input in pixels. */
  imageSize: number;
  /** Images per step. */
  batchSize: number;
  /** Training throughput (SGD steps), images per second; null when not measured. */
  trainImagesPerSec: number | null;
  /** Inference throughput, images per second; null when not measured. */
  inferImagesPerSec: number | null;
  /** Threads the backend computed with (wasm: 1 unless started with --threads; pytorch-cpu: the best of 1–2). */
  threads?: number;
  /** Anything worth knowing about the row (e.g. how few images a slow backend ran). */
  note?: string;
  /** Whether this is what a user gets without setting anything (the backend initBackend picks, its default threads). */
  default?: boolean;
  /** Measured with one core held by a busy loop (`--busy`). */
  busy?: boolean;
  /** os.loadavg() (1, 5, 15 minutes) right after the row was measured. */
  loadAverage?: number[];
}
