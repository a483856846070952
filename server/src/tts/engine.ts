/** A speech synthesiser behind one interface, so the offline engine and a cloud provider are interchangeable. */
export interface TtsEngine {
  /** stable name, part of the TTS cache key */
  readonly name: string;
  /** voice names this engine accepts; the first is its default */
  voices(): string[];
  /**
   * Speaks already-normalised text. Resolves with audio bytes: WAV from the offline engine; a cloud engine may return
   * any format ffmpeg decodes (MP3, WAV). Rejects with an AppError the HTTP layer can show.
   */
  synthesize(text: string, opts: { voice?: string; speed?: number }): Promise<Buffer>;
}
