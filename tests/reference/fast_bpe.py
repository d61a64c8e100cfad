#!/usr/bin/python3
"""Pure-Python byte-level BPE over a Hugging Face tokenizer.json: the independent reference for
the C# tokenizer (src/Ellsa.Runtime/Codecs/Text).

It is written from the published behaviour of HF `tokenizers`, not from the C# code, and on
purpose differs from it in method:
  * pre-tokenisation is a hand-written scanner per known pattern (GPT-2 and Llama-3), walking code
    points with `unicodedata`, because Debian's Python has no `regex` module and `re` cannot say
    \\p{L}. The scanners reproduce regex semantics (first matching alternative, greedy with
    backtracking) for exactly these two patterns; anything else is refused.
  * merging is the classic GPT-2 loop (merge every occurrence of the lowest-ranked pair, left to
    right), where the C# code uses HF's priority queue. The two agree for merge lists produced by
    training, which is what both real assets and the tiny ones are.
\\s is the Unicode White_Space property (as in Oniguruma, the `regex` module and .NET), not
str.isspace(), which also accepts U+001C..U+001F.
"""

import json
import unicodedata

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                  r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

WHITE_SPACE = set(map(chr, [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029,
                            0x202F, 0x205F, 0x3000] + list(range(0x2000, 0x200B))))
CONTRACTIONS = ["s", "t", "re", "ve", "m", "ll", "d"]


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def is_letter(c):
    return unicodedata.category(c).startswith("L")


def is_number(c):
    return unicodedata.category(c).startswith("N")


def is_space(c):
    return c in WHITE_SPACE


def is_other(c):
    return not (is_space(c) or is_letter(c) or is_number(c))


def run_end(text, i, pred):
    while i < len(text) and pred(text[i]):
        i += 1
    return i


def whitespace_tail(text, i):
    """`\\s+(?!\\S)` then `\\s+`: the run minus its last char when a non-space follows it."""
    j = run_end(text, i, is_space)
    if j == len(text) or j - i == 1:
        return j
    return j - 1


def contraction(text, i, fold):
    if text[i] != "'":
        return None
    for c in CONTRACTIONS:
        piece = text[i + 1:i + 1 + len(c)]
        if (piece.lower() if fold else piece) == c and len(piece) == len(c):
            if fold and any(not ch.isascii() for ch in piece):
                continue
            return i + 1 + len(c)
    return None


def split_gpt2(text):
    pieces, i = [], 0
    while i < len(text):
        end = contraction(text, i, fold=False)
        if end is None:
            start = i + 1 if text[i] == " " and i + 1 < len(text) else i
            for pred in (is_letter, is_number, is_other):
                if pred(text[start]):
                    end = run_end(text, start, pred)
                    break
        if end is None:
            end = whitespace_tail(text, i)
        pieces.append(text[i:end])
        i = end
    return pieces


def split_llama3(text):
    pieces, i = [], 0
    n = len(text)
    while i < n:
        c = text[i]
        end = contraction(text, i, fold=True)
        if end is None and c not in "\r\n" and not is_letter(c) and not is_number(c) \
                and i + 1 < n and is_letter(text[i + 1]):
            end = run_end(text, i + 1, is_letter)
        if end is None and is_letter(c):
            end = run_end(text, i, is_letter)
        if end is None and is_number(c):
            end = min(run_end(text, i, is_number), i + 3)
        if end is None:
            start = i + 1 if c == " " and i + 1 < n and is_other(text[i + 1]) else i
            if is_other(text[start]):
                end = run_end(text, run_end(text, start, is_other), lambda ch: ch in "\r\n")
        if end is None and is_space(c):
            j = run_end(text, i, is_space)
            newlines = [k for k in range(i, j) if text[k] in "\r\n"]
            end = newlines[-1] + 1 if newlines else whitespace_tail(text, i)
        pieces.append(text[i:end])
        i = end
    return pieces


class Tokenizer:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
        model = cfg["model"]
        assert model["type"] == "BPE" and not model.get("byte_fallback")
        assert cfg.get("normalizer") is None
        self.vocab = dict(model["vocab"])
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.ignore_merges = bool(model.get("ignore_merges", False))
        self.ranks = {}
        for rank, m in enumerate(model["merges"]):
            a, b = m.split(" ") if isinstance(m, str) else m
            self.ranks[(a, b)] = rank
        self.added = {t["content"]: t["id"] for t in cfg.get("added_tokens", [])}
        self.special_ids = {t["id"] for t in cfg.get("added_tokens", []) if t.get("special")}
        for t in cfg.get("added_tokens", []):
            self.id_to_token[t["id"]] = t["content"]
        self.split = self._pre_tokenizer(cfg["pre_tokenizer"])

    @staticmethod
    def _pre_tokenizer(pt):
        if pt["type"] == "ByteLevel" and pt["use_regex"] and not pt["add_prefix_space"]:
            return split_gpt2
        if pt["type"] == "Sequence":
            split, byte_level = pt["pretokenizers"]
            if split["type"] == "Split" and split["pattern"].get("Regex") == LLAMA3_PATTERN \
                    and split["behavior"] == "Isolated" and not split.get("invert") \
                    and byte_level["type"] == "ByteLevel" and not byte_level["use_regex"] \
                    and not byte_level["add_prefix_space"]:
                return split_llama3
        raise ValueError("the reference only knows the GPT-2 and Llama-3 pre-tokenizers")

    def split_added(self, text):
        """Leftmost-longest added-token matching: [(is_added, str)]."""
        out, start, i = [], 0, 0
        while i < len(text):
            best = max((t for t in self.added if text.startswith(t, i)), key=len, default=None)
            if best is None:
                i += 1
                continue
            if start < i:
                out.append((False, text[start:i]))
            out.append((True, best))
            i += len(best)
            start = i
        if start < len(text):
            out.append((False, text[start:]))
        return out

    def bpe(self, word):
        if self.ignore_merges and word in self.vocab:
            return [word]
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.ranks.get((parts[k], parts[k + 1]), float("inf")), k)
                     for k in range(len(parts) - 1)]
            rank = min(pairs)[0]
            if rank == float("inf"):
                break
            merged, k = [], 0
            while k < len(parts):
                if k + 1 < len(parts) and self.ranks.get((parts[k], parts[k + 1])) == rank:
                    merged.append(parts[k] + parts[k + 1])
                    k += 2
                else:
                    merged.append(parts[k])
                    k += 1
            parts = merged
        return parts

    def pieces(self, text):
        """Byte-mapped pre-tokenised pieces of a text without added tokens."""
        return ["".join(BYTE_TO_CHAR[b] for b in p.encode("utf-8")) for p in self.split(text)]

    def encode(self, text):
        ids = []
        for is_added, part in self.split_added(text):
            if is_added:
                ids.append(self.added[part])
                continue
            for piece in self.pieces(part):
                ids.extend(self.vocab[t] for t in self.bpe(piece))
        return ids

    def decode_bytes(self, ids, skip_special=False):
        out = bytearray()
        for i in ids:
            if skip_special and i in self.special_ids:
                continue
            tok = self.id_to_token[i]
            if all(c in CHAR_TO_BYTE for c in tok):
                out.extend(CHAR_TO_BYTE[c] for c in tok)
            else:
                out.extend(tok.encode("utf-8"))
        return bytes(out)

    def decode(self, ids, skip_special=False):
        return self.decode_bytes(ids, skip_special).decode("utf-8", errors="replace")


def clean_up_tokenization(text):
    """transformers' PreTrainedTokenizerBase.clean_up_tokenization (applied by decode when the
    tokenizer_config sets clean_up_tokenization_spaces, as Llama-3's does)."""
    for old, new in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"),
                     (" n't", "n't"), (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"),
                     (" 're", "'re")]:
        text = text.replace(old, new)
    return text
