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

# ---- tiny-vlm: the policy's forward pass in PyTorch, written from the architecture in src/models/vlm.ts ----
# (patchify order, pre-norm blocks, causal + pad-key mask, learned positions, LoRA on block linears, heads)
# and the teacher-forced layout in src/models/policy.ts, built here independently from the row texts.
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(0)
cfg = dict(imageSize=16, patchSize=8, dModel=32, layers=2, heads=2, ffn=64, headHidden=16, maxPromptTokens=24,
           maxNewTokens=40, loraRank=2, loraAlpha=4, tokenizer='byte', seed=0)
PAD, BOS, EOS, V = 256, 257, 258, 260
S, p, d, H, r = cfg['imageSize'], cfg['patchSize'], cfg['dModel'], cfg['heads'], cfg['loraRank']
side = S // p
P = side * side
maxpos = P + 1 + cfg['maxPromptTokens'] + cfg['maxNewTokens']
shapes = {'patch.w': [3 * p * p, d], 'patch.b': [d], 'tok_emb': [V, d], 'pos_emb': [maxpos, d]}
io = {'q': [d, d], 'k': [d, d], 'v': [d, d], 'o': [d, d], 'fc': [d, cfg['ffn']], 'proj': [cfg['ffn'], d]}
for l in range(cfg['layers']):
    for n in ['ln1', 'ln2']:
        shapes[f'l{l}.{n}.g'] = [d]
        shapes[f'l{l}.{n}.b'] = [d]
    for n, (i, o) in io.items():
        shapes[f'l{l}.{n}.w'] = [i, o]
        shapes[f'l{l}.{n}.b'] = [o]
        shapes[f'l{l}.{n}.lora_a'] = [i, r]
        shapes[f'l{l}.{n}.lora_b'] = [r, o]
shapes.update({'ln_f.g': [d], 'ln_f.b': [d], 'lm_head.w': [d, V]})
for h, o in [('value', 1), ('q_head', V)]:
    shapes.update({f'{h}.fc.w': [d, cfg['headHidden']], f'{h}.fc.b': [cfg['headHidden']], f'{h}.out.w': [cfg['headHidden'], o], f'{h}.out.b': [o]})
W = {}
for n, s in shapes.items():
    W[n] = (1.0 + 0.1 * torch.randn(s)) if n.endswith('.g') else 0.3 * torch.randn(s)
W = {k: v.double() for k, v in W.items()}

rows = [
    {'prompt': 'Move to the target: {"action": "+"} or "-"', 'output': '{"thoughts": "up", "action": "+"}', 'eos': True},
    {'prompt': 'short', 'output': 'ok', 'eos': False},
]
def enc(s):
    return list(s.encode('utf-8'))
for row in rows:
    row['output_ids'] = enc(row['output']) + ([EOS] if row['eos'] else [])
    m = row['output'].lower().rfind('"action":')
    row['action_start'] = m if m >= 0 else len(row['output']) - 1
prompts = [[BOS] + enc(row['prompt'])[-cfg['maxPromptTokens']:] for row in rows]
B = len(rows)
ctx = max(len(x) - 1 for x in prompts)
out = max(len(row['output_ids']) for row in rows)
context = torch.full((B, ctx), PAD, dtype=torch.long)
context_pos = torch.zeros((B, ctx), dtype=torch.long)
stream = torch.full((B, out), PAD, dtype=torch.long)
stream_pos = torch.zeros((B, out), dtype=torch.long)
targets = torch.full((B, out), PAD, dtype=torch.long)
mask = torch.zeros((B, out))
for b, (pr, row) in enumerate(zip(prompts, rows)):
    L = len(pr)
    for j in range(L - 1):
        context[b, ctx - (L - 1) + j] = pr[j]
        context_pos[b, ctx - (L - 1) + j] = P + j
    y = row['output_ids']
    for i in range(len(y)):
        stream[b, i] = pr[-1] if i == 0 else y[i - 1]
        stream_pos[b, i] = P + L - 1 + i
        targets[b, i] = y[i]
        mask[b, i] = 1
image = torch.rand(B, 3, S, S) * 2 - 1

def lin(name, x, lora=False):
    y = x @ W[name + '.w'] + W[name + '.b']
    if lora:
        y = y + (cfg['loraAlpha'] / r) * (x @ W[name + '.lora_a']) @ W[name + '.lora_b']
    return y

def forward(image):
    x = image.double().reshape(B, 3, side, p, side, p).permute(0, 2, 4, 1, 3, 5).reshape(B, P, 3 * p * p)
    patches = lin('patch', x) + W['pos_emb'][:P]
    tokens = torch.cat([context, stream], 1)
    pos = torch.cat([context_pos, stream_pos], 1)
    h = torch.cat([patches, W['tok_emb'][tokens] + W['pos_emb'][pos]], 1)
    Ltot = h.shape[1]
    valid = torch.cat([torch.ones(B, P, dtype=torch.bool), tokens != PAD], 1)
    allowed = torch.tril(torch.ones(Ltot, Ltot, dtype=torch.bool))[None] & valid[:, None, :]
    bias = torch.where(allowed, 0.0, -1e9).double()[:, None]
    dh = d // H
    for l in range(cfg['layers']):
        a = F.layer_norm(h, [d], W[f'l{l}.ln1.g'], W[f'l{l}.ln1.b'], 1e-5)
        q, k, v = (lin(f'l{l}.{n}', a, True).reshape(B, Ltot, H, dh).transpose(1, 2) for n in 'qkv')
        att = torch.softmax(q @ k.transpose(-1, -2) / dh ** 0.5 + bias, -1) @ v
        h = h + lin(f'l{l}.o', att.transpose(1, 2).reshape(B, Ltot, d), True)
        a = F.layer_norm(h, [d], W[f'l{l}.ln2.g'], W[f'l{l}.ln2.b'], 1e-5)
        h = h + lin(f'l{l}.proj', F.gelu(lin(f'l{l}.fc', a, True)), True)
    h = F.layer_norm(h, [d], W['ln_f.g'], W['ln_f.b'], 1e-5)
    return h[:, P + ctx:]

hs = forward(image)
logits = hs @ W['lm_head.w']
T = 0.7
logp = torch.log_softmax(logits / T, -1).gather(-1, targets[..., None])[..., 0]
lam = 0.5
thought = (torch.arange(out)[None] < torch.tensor([row['action_start'] for row in rows])[:, None]).double() * mask
loglik = (logp * (lam * thought + (mask - thought))).sum(1)
lpT = torch.log_softmax(logits / T, -1)
entropy = -(lpT.exp() * lpT).sum(-1)
value = lin('value.out', torch.relu(lin('value.fc', hs[:, 0])))[:, 0]
qv = lin('q_head.out', torch.relu(lin('q_head.fc', hs)))
q_taken = qv.gather(-1, targets[..., None])[..., 0]
soft_v = (torch.softmax(logits, -1) * qv).sum(-1)

vdir = os.path.join(sys.argv[1], 'tiny-vlm')
os.makedirs(vdir, exist_ok=True)
save_file({k: v.float().contiguous() for k, v in W.items()}, os.path.join(vdir, 'weights.safetensors'), {'format': 'o2o-vlm-1', 'tokenizer': 'o2o-byte-v1'})
with open(os.path.join(vdir, 'model.json'), 'w') as f:
    json.dump({'format': 'o2o-vlm-1', 'config': cfg, 'tokenizer': 'o2o-byte-v1'}, f, indent=1)
L = lambda t: t.tolist()
with open(os.path.join(vdir, 'golden.json'), 'w') as f:
    json.dump({
        'temperature': T, 'lambda': lam,
        'rows': [{'prompt': row['prompt'], 'output': row['output_ids'], 'action_start': row['action_start']} for row in rows],
        'image': L(image.reshape(-1)),
        'feeds': {'context': L(context), 'context_pos': L(context_pos), 'stream': L(stream), 'stream_pos': L(stream_pos), 'targets': L(targets), 'mask': L(mask)},
        'logp': L(logp), 'loglik': L(loglik), 'entropy': L(entropy), 'value': L(value), 'q_taken': L(q_taken), 'soft_v': L(soft_v),
    }, f)
print('wrote', vdir)
