#!/usr/bin/env python3
"""A client for o2o's remote-env protocol (docs/remote-env.md), Python 3 standard library only.

Plays one episode: creates an env, resets it, sends the given actions in turn (cycling) until the episode
ends, closes the env, and prints one JSON line per step and a summary line, e.g.

    python3 tools/remote_env_client.py --url http://127.0.0.1:8300 --task numberline --seed 7 --actions '+,-'

Each action is sent as the policy's output text {"thoughts": ..., "action": A}, so the server parses it.
"""
import argparse
import base64
import hashlib
import json
import sys
import urllib.error
import urllib.request


def call(url, method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(url.rstrip("/") + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return json.loads(res.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        err = json.loads(e.read().decode("utf-8"))["error"]
        sys.exit("%s %s: %d %s: %s" % (method, path, e.code, err["code"], err["message"]))


def check_observation(obs):
    png = base64.b64decode(obs["image"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "the image is not a PNG"
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    return {"png_sha256": hashlib.sha256(png).hexdigest(), "width": width, "height": height,
            "legal": obs["legalActions"], "fields": obs["fields"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--task", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--token")
    ap.add_argument("--actions", required=True, help="comma-separated action strings, played in turn")
    ap.add_argument("--max-steps", type=int, default=300)
    a = ap.parse_args()
    actions = a.actions.split(",")

    env = call(a.url, "POST", "/v1/envs", {"task": a.task, "seed": a.seed}, a.token)
    obs = call(a.url, "POST", "/v1/envs/%s/reset" % env["id"], {}, a.token)["observation"]
    print(json.dumps({"reset": check_observation(obs)}))
    total, steps = 0.0, 0
    while steps < a.max_steps:
        text = json.dumps({"thoughts": "scripted", "action": actions[steps % len(actions)]})
        r = call(a.url, "POST", "/v1/envs/%s/step" % env["id"], {"action": text}, a.token)
        steps += 1
        total += r["reward"]
        print(json.dumps({"step": steps, "action": r["actionText"], "valid": r["actionValid"], "reward": r["reward"],
                          "terminated": r["terminated"], "truncated": r["truncated"],
                          "obs": check_observation(r["observation"])}))
        if r["terminated"] or r["truncated"]:
            break
    call(a.url, "DELETE", "/v1/envs/%s" % env["id"], None, a.token)
    print(json.dumps({"summary": {"task": env["task"], "steps": steps, "return": total}}))


if __name__ == "__main__":
    main()
