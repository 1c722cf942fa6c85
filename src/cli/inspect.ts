/**
 * `npm run inspect -- <file>`: decodes one PNG, JPEG or DICOM file and prints one JSON object with its
 * format, transfer syntax, photometric interpretation, size, bits, frames and the min/max/mean of the
 * decoded values (after the modality LUT, before windowing). Prints no identifiers (PHI).
 * On failure prints `{"error":{"code","message"}}` to stderr and exits 2.
 */
import { readFileSync } from 'node:fs';
import { ImageError } from '../errors/image-errors';
import { decodeImage, pixelStats, transferSyntaxName } from '../imaging';

/** Limits for a local inspection: generous, since the operator chose the file. */
const INSPECT_LIMITS = { maxBytes: 2 * 1024 * 1024 * 1024, maxPixels: 400_000_000 };

/** Decodes `file` and returns the summary the CLI prints. */
async function inspectFile(file: string): Promise<Record<string, unknown>> {
  const img = await decodeImage(readFileSync(file), INSPECT_LIMITS);
  const { min, max, mean } = pixelStats(img);
  return {
    format: img.format,
    transferSyntaxUid: img.transferSyntaxUid ?? null,
    transferSyntax: img.transferSyntaxUid ? transferSyntaxName(img.transferSyntaxUid) : null,
    photometric: img.photometric,
    rows: img.height,
    columns: img.width,
    bitsStored: img.bitsStored,
    frames: img.dicom?.numberOfFrames ?? 1,
    min,
    max,
    mean,
  };
}

async function main(argv: string[]): Promise<number> {
  const file = argv[0];
  if (!file) {
    process.stderr.write(
      `${JSON.stringify({ error: { code: 'BAD_USER_INPUT', message: 'usage: inspect <file>' } })}\n`,
    );
    return 2;
  }
  try {
    process.stdout.write(`${JSON.stringify(await inspectFile(file))}\n`);
    return 0;
  } catch (e) {
    const error =
      e instanceof ImageError
        ? { code: e.code, message: e.message }
        : {
            code: (e as NodeJS.ErrnoException)?.code === 'ENOENT' ? 'NOT_FOUND' : 'INTERNAL_ERROR',
            message: e instanceof Error ? e.message : String(e),
          };
    process.stderr.write(`${JSON.stringify({ error })}\n`);
    return 2;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
