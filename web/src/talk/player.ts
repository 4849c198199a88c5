import { RATE, pcm16BytesToFloat } from "./pcm";

/**
 * Plays the agent's 20 ms frames back to back as they arrive, with a small lead so network
 * jitter does not cut the speech; stop() drops what is queued (the response was interrupted).
 */
export class PcmPlayer {
  private next = 0;
  private playing = new Set<AudioBufferSourceNode>();
  static readonly leadSeconds = 0.06;

  constructor(private readonly ctx: AudioContext) {}

  enqueue(bytes: ArrayBuffer): void {
    const samples = pcm16BytesToFloat(bytes);
    if (samples.length === 0) return;
    const buffer = this.ctx.createBuffer(1, samples.length, RATE);
    buffer.copyToChannel(samples, 0);
    const source = this.ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.ctx.destination);
    const now = this.ctx.currentTime;
    if (this.next < now + 0.005) this.next = now + PcmPlayer.leadSeconds;
    source.start(this.next);
    this.next += buffer.duration;
    this.playing.add(source);
    source.onended = () => this.playing.delete(source);
  }

  stop(): void {
    this.playing.forEach((s) => s.stop());
    this.playing.clear();
    this.next = 0;
  }
}
