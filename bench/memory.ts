/** Resident memory of a process from /proc: a sampled maximum of VmRSS plus the kernel's own peak, VmHWM. */
import { readFileSync } from "node:fs";

export interface MemoryReading {
  /** Kernel-tracked peak RSS (VmHWM) read just before the process was stopped, MiB. */
  peakRssMb: number | null;
  /** Highest VmRSS seen by polling, MiB. */
  maxSampledRssMb: number | null;
  samples: number;
}

function readKb(pid: number, field: "VmRSS" | "VmHWM"): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    return m?.[1] === undefined ? null : Number(m[1]);
  } catch {
    return null;
  }
}

/** Current and peak RSS of a live process, MiB (null when /proc cannot be read). */
export function rssOf(pid: number): { currentMb: number | null; peakMb: number | null } {
  const cur = readKb(pid, "VmRSS");
  const peak = readKb(pid, "VmHWM");
  return { currentMb: cur === null ? null : cur / 1024, peakMb: peak === null ? null : peak / 1024 };
}

export class MemorySampler {
  readonly #pid: number;
  readonly #timer: NodeJS.Timeout;
  #maxKb = 0;
  #samples = 0;

  constructor(pid: number, intervalMs = 50) {
    this.#pid = pid;
    this.#timer = setInterval(() => this.#sample(), intervalMs);
    this.#sample();
  }

  #sample(): void {
    const kb = readKb(this.#pid, "VmRSS");
    if (kb === null) return;
    this.#samples++;
    if (kb > this.#maxKb) this.#maxKb = kb;
  }

  /** Stops polling and reads the peak; call while the process is still alive. */
  finish(): MemoryReading {
    clearInterval(this.#timer);
    this.#sample();
    const hwm = readKb(this.#pid, "VmHWM");
    return {
      peakRssMb: hwm === null ? null : hwm / 1024,
      maxSampledRssMb: this.#samples === 0 ? null : this.#maxKb / 1024,
      samples: this.#samples,
    };
  }
}
