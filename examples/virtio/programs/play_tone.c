// play_tone FREQ MS [RATE]: plays a sine tone of FREQ Hz for MS milliseconds on the first sound card,
// 16-bit mono at RATE Hz (default 48000), through the kernel's ALSA PCM interface directly (no
// alsa-lib in the guest). A buffer of silence follows the tone, so a card that plays on past the
// end of the data (as the PCM ring does before the stream stops) plays silence.
// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <sound/asound.h>

#define DEVICE "/dev/snd/pcmC0D0p"

static void die(const char *what) {
  fprintf(stderr, "play_tone: %s: %s\n", what, strerror(errno));
  exit(1);
}

static struct snd_mask *mask(struct snd_pcm_hw_params *p, int param) {
  return &p->masks[param - SNDRV_PCM_HW_PARAM_FIRST_MASK];
}

static struct snd_interval *interval(struct snd_pcm_hw_params *p, int param) {
  return &p->intervals[param - SNDRV_PCM_HW_PARAM_FIRST_INTERVAL];
}

/** Only `bit` in the mask. */
static void mask_only(struct snd_pcm_hw_params *p, int param, unsigned bit) {
  struct snd_mask *m = mask(p, param);
  memset(m->bits, 0, sizeof m->bits);
  m->bits[bit / 32] = 1u << (bit % 32);
}

/** The interval [value, value], an integer. */
static void interval_only(struct snd_pcm_hw_params *p, int param, unsigned value) {
  struct snd_interval *i = interval(p, param);
  i->min = i->max = value;
  i->integer = 1;
}

/** Everything allowed: the kernel narrows what it is not told. */
static void hw_params_any(struct snd_pcm_hw_params *p) {
  memset(p, 0, sizeof *p);
  for (int m = SNDRV_PCM_HW_PARAM_FIRST_MASK; m <= SNDRV_PCM_HW_PARAM_LAST_MASK; m++)
    memset(mask(p, m)->bits, 0xff, sizeof mask(p, m)->bits);
  for (int i = SNDRV_PCM_HW_PARAM_FIRST_INTERVAL; i <= SNDRV_PCM_HW_PARAM_LAST_INTERVAL; i++)
    interval(p, i)->max = ~0u;
  p->rmask = ~0u;
  p->info = ~0u;
}

/** Writes all `frames`, preparing the stream again after an underrun. */
static void write_frames(int fd, int16_t *samples, unsigned long frames) {
  while (frames > 0) {
    struct snd_xferi x = {.buf = samples, .frames = frames};
    if (ioctl(fd, SNDRV_PCM_IOCTL_WRITEI_FRAMES, &x) < 0) {
      if (errno == EPIPE) {
        if (ioctl(fd, SNDRV_PCM_IOCTL_PREPARE) < 0) die("PREPARE after an underrun");
        continue;
      }
      die("WRITEI_FRAMES");
    }
    samples += x.result;
    frames -= x.result;
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: play_tone FREQ_HZ MILLISECONDS [RATE_HZ]\n");
    return 2;
  }
  double freq = atof(argv[1]);
  unsigned ms = (unsigned)atoi(argv[2]);
  unsigned rate = argc > 3 ? (unsigned)atoi(argv[3]) : 48000;

  int fd = open(DEVICE, O_WRONLY);
  if (fd < 0) die("open " DEVICE);
  struct snd_pcm_hw_params hw;
  hw_params_any(&hw);
  mask_only(&hw, SNDRV_PCM_HW_PARAM_ACCESS, SNDRV_PCM_ACCESS_RW_INTERLEAVED);
  mask_only(&hw, SNDRV_PCM_HW_PARAM_FORMAT, SNDRV_PCM_FORMAT_S16_LE);
  mask_only(&hw, SNDRV_PCM_HW_PARAM_SUBFORMAT, SNDRV_PCM_SUBFORMAT_STD);
  interval_only(&hw, SNDRV_PCM_HW_PARAM_CHANNELS, 1);
  interval_only(&hw, SNDRV_PCM_HW_PARAM_RATE, rate);
  if (ioctl(fd, SNDRV_PCM_IOCTL_HW_PARAMS, &hw) < 0) die("HW_PARAMS");
  unsigned long buffer = interval(&hw, SNDRV_PCM_HW_PARAM_BUFFER_SIZE)->min;
  if (ioctl(fd, SNDRV_PCM_IOCTL_PREPARE) < 0) die("PREPARE");

  unsigned long tone = (unsigned long)rate * ms / 1000;
  int16_t *samples = calloc(tone + buffer, sizeof *samples);
  if (!samples) die("calloc");
  for (unsigned long n = 0; n < tone; n++)
    samples[n] = (int16_t)lrint(16000.0 * sin(2.0 * M_PI * freq * (double)n / rate));
  write_frames(fd, samples, tone + buffer);
  if (ioctl(fd, SNDRV_PCM_IOCTL_DRAIN) < 0) die("DRAIN");
  close(fd);
  printf("played %.0f Hz for %u ms at %u Hz (%lu frames, buffer %lu)\n", freq, ms, rate, tone, buffer);
  return 0;
}
