"""Golden values for src/algos/ from an independent PyTorch implementation (run once, output committed).

Usage: python3 tools/golden-algos.py > test/algos/fixtures/algos-golden.json
PPO follows RL4VLM's update (ratio, surr1/surr2, value_pred_clipped); GAE follows the rollout-storage
recursion with masks (0 at termination) and bad_masks (truncation: bootstrap the final observation).
"""
import json
import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
out = {}

# PPO loss and its gradients w.r.t. the new log-likelihood and the value.
B, eps, cv = 16, 0.1, 0.5
logp_old = torch.randn(B) - 3
logp_new = (logp_old + 0.2 * torch.randn(B)).requires_grad_()
adv = torch.randn(B)
v_old = torch.randn(B)
v = (v_old + 0.3 * torch.randn(B)).requires_grad_()
ret = torch.randn(B)
ratio = torch.exp(logp_new - logp_old)
surr1 = ratio * adv
surr2 = torch.clamp(ratio, 1 - eps, 1 + eps) * adv
pg = -torch.min(surr1, surr2).mean()
v_clip = v_old + (v - v_old).clamp(-eps, eps)
vf = 0.5 * torch.max((v - ret) ** 2, (v_clip - ret) ** 2).mean()
loss = pg + cv * vf
loss.backward()
out['ppo'] = dict(clipEps=eps, valueCoef=cv, logpOld=logp_old.tolist(), logpNew=logp_new.tolist(), adv=adv.tolist(),
                  vOld=v_old.tolist(), v=v.tolist(), ret=ret.tolist(), pg=pg.item(), vf=vf.item(), loss=loss.item(),
                  gradLogpNew=logp_new.grad.tolist(), gradV=v.grad.tolist())

# GAE over T x N with auto-reset.
T, N, gamma, lam = 12, 3, 0.9, 0.95
rewards = torch.randn(T, N)
values = torch.randn(T, N)
terminated = (torch.rand(T, N) < 0.15).double()
truncated = (torch.rand(T, N) < 0.1).double() * (1 - terminated)
trunc_values = torch.randn(T, N)
last_values = torch.randn(N)
adv_g = torch.zeros(T, N)
gae = torch.zeros(N)
for t in reversed(range(T)):
    next_v = last_values if t == T - 1 else values[t + 1]
    done = torch.clamp(terminated[t] + truncated[t], max=1)
    next_v = torch.where(truncated[t] > 0, trunc_values[t], next_v * (1 - done))
    delta = rewards[t] + gamma * next_v - values[t]
    gae = delta + gamma * lam * (1 - done) * gae
    adv_g[t] = gae
out['gae'] = dict(gamma=gamma, lam=lam, N=N, rewards=rewards.flatten().tolist(), values=values.flatten().tolist(),
                  terminated=terminated.flatten().tolist(), truncated=truncated.flatten().tolist(),
                  truncValues=trunc_values.flatten().tolist(), lastValues=last_values.tolist(),
                  advantages=adv_g.flatten().tolist(), returns=(adv_g + values).flatten().tolist())

# Per-token entropy, CoSo weighted entropy, soft value V = sum pi Q.
Bt, Tt, V = 2, 5, 7
logits = torch.randn(Bt, Tt, V)
q = torch.randn(Bt, Tt, V)
mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.float64)
w = torch.rand(Bt, Tt)
p = torch.softmax(logits, -1)
ent = -(p * torch.log_softmax(logits, -1)).sum(-1)
hb = (w * ent * mask).sum() / mask.sum()
out['entropy'] = dict(logits=logits.flatten().tolist(), q=q.flatten().tolist(), mask=mask.flatten().tolist(), w=w.flatten().tolist(),
                      V=V, entropy=ent.flatten().tolist(), weighted=hb.item(), softValue=(p * q).sum(-1).flatten().tolist())
# Token-level PPO policy loss (ratioLevel 'token'): a ratio per token, clipped alone, summed with the lambda
# weights (0 on padding). Appended last so the values above keep their random draws.
Bk, Tk, lam = 4, 6, 0.5
lengths, starts = [6, 3, 5, 1], [4, 0, 2, 1]
wk = torch.zeros(Bk, Tk)
for b in range(Bk):
    for i in range(lengths[b]):
        wk[b, i] = lam if i < starts[b] else 1.0
mk = (wk > 0).double()
lo = torch.randn(Bk, Tk) - 2
ln = (lo + 0.15 * torch.randn(Bk, Tk)).requires_grad_()
ak = torch.randn(Bk)
rk = torch.exp((ln - lo) * mk)
surr = torch.min(rk * ak[:, None], torch.clamp(rk, 1 - eps, 1 + eps) * ak[:, None])
pgk = -(surr * wk).sum(1).mean()
pgk.backward()
klk = (((rk - 1) - (ln - lo) * mk) * wk).sum(1).mean()
out['ppoToken'] = dict(clipEps=eps, w=wk.flatten().tolist(), mask=mk.flatten().tolist(), logpOld=lo.flatten().tolist(),
                       logpNew=ln.detach().flatten().tolist(), adv=ak.tolist(), pg=pgk.item(), kl=klk.item(),
                       clipFrac=(((rk - 1).abs() > eps).double() * mk).sum().item() / mk.sum().item(),
                       gradLogpNew=ln.grad.flatten().tolist())
print(json.dumps(out))
