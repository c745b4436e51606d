// The word service behind trustworthy.systems/projects/microkit/tutorial/word.
//
// A different five-letter word for each request, drawn from a built-in list with a seeded generator
// (so a run repeats), or one fixed word when the caller chooses it.

import { seededRandom } from "./random.ts";

/** Common five-letter English words, lower case, each once. */
export const WORDS: readonly string[] = `
  about above abuse actor acute admit adopt adult after again agent agree ahead alarm album alert
  alike alive allow alone along alter amber among angel anger angle angry apart apple apply arena
  argue arise array arrow aside asset audio audit avoid awake award aware badge baker basic basin
  beach beard beast begin being below bench berry birth black blade blame blank blast blend bless
  blind block bloom board boast bonus boost booth brain brake brand brave bread break brick bride
  brief bring broad brook brown brush build bunch burst buyer cabin cable camel canal candy cargo
  carry catch cause cedar chain chair chalk charm chart chase cheap check cheek chess chest chief
  child chill choir civic claim clash class clean clear clerk click cliff climb clock close cloth
  cloud coach coast coral couch count court cover crane crash cream crest crowd crown crust curve
  cycle daily dance delta depth diary dough draft drain drama dream dress drift drink drive eager
  eagle early earth eight elbow elder elect empty enjoy enter entry equal error essay event exact
  exist extra faith false fancy feast fence fever fiber field fifth fifty fight final flame flash
  fleet flesh float flock flood floor flour fluid focus force forge forth forum found frame fresh
  front frost fruit fully funny giant given glass globe glory glove grace grade grain grand grant
  grape graph grass great green greet grief grill group grove guard guess guest guide habit happy
  harsh heart heavy hedge hello honey horse hotel house human humor ideal image index inner input
  issue ivory jelly jewel joint judge juice knife knock label labor large laser later laugh layer
  learn lemon level light limit linen liver local lodge logic loose lucky lunar lunch magic major
  maker maple march match mayor medal metal meter model money month moral motor mount mouse mouth
  movie music naval nerve never night noble noise north novel nurse ocean offer often olive onion
  opera orbit order other outer owner paint panel paper party pasta patch pause peace pearl pedal
  penny phase phone photo piano piece pilot pitch pixel place plain plane plant plate plaza point
  polar porch pound power press price pride prime print prize proof proud prove pulse punch pupil
  queen quest quick quiet quilt quite radar radio raise rally ranch range rapid ratio reach ready
  realm rebel reply ridge rifle right rival river roast robin robot rocky round route royal rural
  salad sauce scale scene scope score scout sense serve seven shade shake shape share shark sharp
  sheep shelf shell shift shine shirt shore short shout sight silky skill slate sleep slice slide
  slope small smart smile smoke snack snake solar solid solve sound south space spare spark speak
  speed spend spice spine spoon sport spray squad stack staff stage stair stamp stand start state
  steam steel steep stick still stock stone stool storm story stove straw strip study style sugar
  suite sunny super sweet swift sword table taste teach thank theme thick thumb tiger timer toast
  token topic torch total touch tower track trade trail train treat trend trial tribe trick truck
  trust truth tulip tutor twist ultra uncle under union unity upper urban usage usual valid value
  valve vapor vault video vigor villa vinyl visit vital vivid vocal voice wagon waste watch water
  whale wheat wheel while white whole width woman world worry worth write yacht yield young youth
  zebra
`
  .trim()
  .split(/\s+/);

/** The seed used when none is given, so two runs serve the same words in the same order. */
export const DEFAULT_WORD_SEED = 0x5e14;

/** Returns `word`, or throws a clear error unless it is exactly five letters a-z. */
export function validateWord(word: string): string {
  if (!/^[a-z]{5}$/.test(word)) {
    throw new Error(
      `the word must be exactly five lower-case letters a-z (the tutorial's guest sends letters 0-4 ` +
        `to the VMM), got ${JSON.stringify(word)}`,
    );
  }
  return word;
}

export interface WordServiceOptions {
  /** Seeds the sequence of words (default DEFAULT_WORD_SEED). */
  readonly seed?: number;
  /** Serve this word every time instead. */
  readonly word?: string;
}

export class WordService {
  private readonly random: () => number;
  private readonly fixed: string | undefined;
  private previous = -1;

  constructor(options: WordServiceOptions = {}) {
    this.fixed = options.word === undefined ? undefined : validateWord(options.word);
    this.random = seededRandom(options.seed ?? DEFAULT_WORD_SEED);
  }

  /** The next word: never the same as the one before (unless a fixed word was chosen). */
  next(): string {
    if (this.fixed !== undefined) return this.fixed;
    let index = this.random() % WORDS.length;
    // Drawing from the other words keeps the distribution even while ruling out a repeat.
    if (index === this.previous) index = (index + 1 + (this.random() % (WORDS.length - 1))) % WORDS.length;
    this.previous = index;
    return WORDS[index]!;
  }
}
