import type { PreprocessingId } from '../imaging';
import type { PreparedImage } from './image-preparer';

/** A model input contract: the square input side and the preprocessing (model.json). */
export interface InputContract {
  size: number;
  preprocessing: PreprocessingId;
}

/**
 * Prepared model inputs by file content (SHA-256) and input contract, bounded by bytes and evicted
 * least recently used first: a film decoded at upload is not decoded again when it is analysed. It
 * also remembers the contracts analyses asked for lately, which the upload prepares ahead (a version
 * rolled out teaches it its contract with its first analysis). Entries are shared, never mutated.
 */
export class PreparedCache {
  private readonly entries = new Map<string, PreparedImage>();
  private bytes = 0;
  private readonly recent: InputContract[] = [];

  /**
   * @param maxBytes - bound on the tensors held (a 224² chest input is 196 KiB); 0 turns caching off
   * @param maxContracts - how many recent contracts uploads prepare ahead
   */
  constructor(
    readonly maxBytes = 64 * 1024 * 1024,
    private readonly maxContracts = 2,
  ) {}

  /** Number of prepared inputs held. */
  get size(): number {
    return this.entries.size;
  }

  /** The contracts to prepare a new upload under, most recent first. */
  get contracts(): readonly InputContract[] {
    return this.recent;
  }

  /** The prepared input of this content under this contract, if held (and marks the contract used). */
  get(sha256: string, contract: InputContract): PreparedImage | undefined {
    this.remember(contract);
    const key = keyOf(sha256, contract);
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  /**
   * The held input of this content under this contract, or the one `prepare` makes (then held). Without
   * a content hash nothing is looked up or kept.
   */
  async getOrPrepare(
    sha256: string | undefined,
    contract: InputContract,
    prepare: () => Promise<PreparedImage>,
  ): Promise<PreparedImage> {
    const hit = sha256 ? this.get(sha256, contract) : undefined;
    if (hit) return hit;
    const prepared = await prepare();
    if (sha256) this.set(sha256, prepared);
    return prepared;
  }

  /** Holds a prepared input, evicting the least recently used ones beyond the bound. */
  set(sha256: string, prepared: PreparedImage): void {
    const cost = prepared.tensor.byteLength + 1024;
    if (cost > this.maxBytes) return;
    const key = keyOf(sha256, prepared);
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.tensor.byteLength + 1024;
    }
    this.entries.set(key, prepared);
    this.bytes += cost;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= v.tensor.byteLength + 1024;
    }
  }

  private remember(contract: InputContract): void {
    const i = this.recent.findIndex(
      (c) => c.size === contract.size && c.preprocessing === contract.preprocessing,
    );
    if (i === 0) return;
    if (i > 0) this.recent.splice(i, 1);
    this.recent.unshift({ size: contract.size, preprocessing: contract.preprocessing });
    this.recent.length = Math.min(this.recent.length, this.maxContracts);
  }
}

const keyOf = (sha256: string, c: InputContract) => `${sha256}|${c.preprocessing}@${c.size}`;
