"""Fixtures for test/models (run once; the outputs are committed).

tiny-bpe: a byte-level BPE tokenizer trained with the Rust `tokenizers` library on agent-style outputs, its
tokenizer_config.json, and golden.json with the ids and character offsets that library gives for a few
strings (the TypeScript loader must reproduce them).

Usage: python tools/golden-models.py test/models/fixtures
"""
import json
import os
import sys

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

out = os.path.join(sys.argv[1], 'tiny-bpe')
os.makedirs(out, exist_ok=True)

corpus = []
for a in ['+', '-', 'stand', 'hit', '1', '2', '10', '(', ')', '*', '/', '=']:
    for t in ['the current number is 3 and the target is 5', 'I should move right', 'cards are 2, 5, J and K']:
        corpus.append('{"thoughts": "%s", "action": "%s"}' % (t, a))
corpus *= 20

tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
specials = ['<|pad|>', '<|bos|>', '<|eos|>', '<image>']
trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
tok.train_from_iterator(corpus, trainer)
tok.save(os.path.join(out, 'tokenizer.json'))
with open(os.path.join(out, 'tokenizer_config.json'), 'w') as f:
    json.dump({'bos_token': '<|bos|>', 'eos_token': '<|eos|>', 'pad_token': '<|pad|>'}, f, indent=1)

texts = [
    '{"thoughts": "the current number is 3", "action": "+"}',
    '{"thoughts": "cards are 2, 5, J and K", "action": "10"}',
    'an unseen sentence with "action": inside and zebra quartz',
    '"action":"stand"',
]
golden = []
for t in texts:
    e = tok.encode(t, add_special_tokens=False)
    golden.append({'text': t, 'ids': e.ids, 'offsets': e.offsets})
golden_specials = {k: tok.token_to_id(v) for k, v in zip(['pad', 'bos', 'eos', 'image'], specials)}
with open(os.path.join(out, 'golden.json'), 'w') as f:
    json.dump({'special': golden_specials, 'cases': golden}, f, indent=1)
print('wrote', out)
