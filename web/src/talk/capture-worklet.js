// AudioWorklet processor of the talk page: the context runs at 16 kHz (the browser resamples
// the microphone), so this only cuts the input into 20 ms frames (320 samples) of signed
// 16-bit PCM and posts each to the page, which sends it on the WebSocket as one ASP frame.
const FRAME = 320;

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frame = new Int16Array(FRAME);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    for (let i = 0; i < channel.length; i++) {
      const s = Math.max(-1, Math.min(1, channel[i]));
      this.frame[this.filled++] = s < 0 ? s * 0x8000 : s * 0x7fff;
      if (this.filled === FRAME) {
        const out = this.frame;
        this.port.postMessage(out.buffer, [out.buffer]);
        this.frame = new Int16Array(FRAME);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor("atende-capture", CaptureProcessor);
