"""Write static/audio/board-alarm.wav: the sign-out board's alarm (R-ESC-12), three two-tone
beeps, made here with the standard library so that nothing comes from a CDN.

    python scripts/make_board_alarm.py
"""

import math
import struct
import wave
from pathlib import Path

RATE = 16_000
OUT = Path(__file__).resolve().parent.parent / "static" / "audio" / "board-alarm.wav"


def tone(hz: float, seconds: float, volume: float = 0.6) -> list[int]:
    count = int(RATE * seconds)
    fade = int(RATE * 0.01)  # 10 ms in and out: no clicks
    samples = []
    for n in range(count):
        envelope = min(1.0, n / fade, (count - n) / fade)
        samples.append(int(32767 * volume * envelope * math.sin(2 * math.pi * hz * n / RATE)))
    return samples


def silence(seconds: float) -> list[int]:
    return [0] * int(RATE * seconds)


def main() -> None:
    samples = []
    for _ in range(3):
        samples += tone(880, 0.18) + tone(660, 0.18) + silence(0.12)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(OUT), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    print(f"{OUT}: {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
