/**
 * What `train` does between rounds: early stopping on a monitored number with the best checkpoint kept (weights
 * copied in memory and restored at the end), and the in-place progress bar.
 */
import * as tf from '@tensorflow/tfjs';
import { progressBar, type ProgressBar } from '../display/progress';

/** The numbers a round can be judged by. */
export type Monitor = 'val_loss' | 'val_accuracy' | 'loss' | 'accuracy';

/** Options of early stopping (TrainOptions.earlyStopping). */
export interface EarlyStoppingOptions {
  /** Stop after this many rounds without improvement (Infinity = never stop, only keep the best). */
  patience: number;
  /** Default val_loss when there is validation data, else loss. */
  monitor?: Monitor;
  /** Restore the best round's weights at the end (default true). */
  restoreBest?: boolean;
}

/** The per-round numbers the checkpoint reads. */
export type RoundNumbers = Partial<Record<Monitor, number>> & { loss: number };

/**
 * Early stopping with the best checkpoint: `observe` after each round says whether to stop; `finish` restores the
 * best weights (when asked) and returns the best round (null when not restoring). Ties of accuracy, frequent on a
 * small validation set, go to the lower loss.
 */
export class BestCheckpoint {
  private best: { value: number; loss: number; round: number; weights: tf.Tensor[] | null } | null = null;
  private sinceBest = 0;
  readonly monitor: Monitor;
  private readonly restore: boolean;

  constructor(
    private readonly model: tf.LayersModel,
    private readonly opts: EarlyStoppingOptions,
    hasValidation: boolean,
    private readonly lastRound: number,
  ) {
    this.monitor = opts.monitor ?? (hasValidation ? 'val_loss' : 'loss');
    if (this.monitor.startsWith('val_') && !hasValidation) throw new Error(`train: earlyStopping monitors '${this.monitor}' but no valData was given`);
    this.restore = opts.restoreBest !== false;
  }

  /** Records round `round`'s numbers; true when training should stop (patience used up). */
  observe(round: number, logs: RoundNumbers): boolean {
    const value = logs[this.monitor] as number;
    const lossOfRound = logs.val_loss ?? logs.loss;
    const higherIsBetter = this.monitor.endsWith('accuracy');
    const b = this.best;
    const improved = b === null || (higherIsBetter ? value > b.value : value < b.value) || (higherIsBetter && value === b.value && lossOfRound < b.loss);
    if (improved) {
      if (b?.weights) tf.dispose(b.weights);
      // tf.clone shares the buffer until the variable is assigned a new value: a cheap copy.
      const weights = this.restore && round < this.lastRound ? this.model.weights.map((w) => tf.clone(w.read())) : null;
      this.best = { value, loss: lossOfRound, round, weights };
      this.sinceBest = 0;
      return false;
    }
    return ++this.sinceBest >= this.opts.patience;
  }

  /** Puts the best round's weights back (if it was not the last round run); returns that round, or null. */
  finish(roundsRun: number): number | null {
    if (!this.restore || !this.best) return null;
    if (this.best.weights && this.best.round !== roundsRun) this.model.weights.forEach((w, i) => w.write(this.best!.weights![i]));
    return this.best.round;
  }

  /** Frees the kept weights. */
  dispose(): void {
    if (this.best?.weights) tf.dispose(this.best.weights);
    this.best = null;
  }
}

/** The progress bar of one training run (null when progress is off). */
export function trainingProgressBar(show: boolean, total: number, label: string): ProgressBar | null {
  return show ? progressBar(total, label, 'step') : null;
}
