"""Writes the LeRobot v3 sample from episodes played by o2o's envs.

Usage: python tools/write_lerobot.py EPISODES_DIR OUT_DIR EXPECTED_JSON
  EPISODES_DIR: episodes.json + one PNG per observation (written by tools/make_samples.ts)

Follows LeRobot's v3 writer (huggingface/lerobot, src/lerobot/datasets/lerobot_dataset.py
`add_frame` / `save_episode` / `_save_episode_data`, dataset_metadata.py `save_episode_tasks` /
`_save_episode_metadata`, utils.py `create_empty_dataset_info`, `get_hf_features_from_features`,
`embed_images`, image_writer.py `write_image`):
  - frames are buffered per episode; image frames are written as PNG files (PIL, compress_level=1) and
    embedded into the Parquet rows as {bytes, path} structs by `datasets`' embed_table_storage;
  - one Parquet file data/chunk-000/file-000.parquet (pq.ParquetWriter, snappy, dictionary), one table
    written per episode; meta/episodes/chunk-000/file-000.parquet; meta/tasks.parquet (task text as the
    index, task_index); meta/info.json with codebase_version "v3.0" and the features; meta/stats.json.
  - `next.reward` / `next.done` are the outcome of the frame's action (reward of step t, episode over after
    it: terminated or truncated, as LeRobot's gym_manipulator records it); `next.truncated` keeps a time
    limit apart from a true terminal (a user-defined feature: LeRobot has none for it); `next.success`.
The images are the envs' 300x300 renders downscaled to 96x96 to keep the sample small.
"""
import hashlib
import json
import os
import shutil
import sys
import tempfile

import datasets
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from datasets.table import embed_table_storage
from PIL import Image

datasets.disable_progress_bars()

CODEBASE_VERSION = "v3.0"
FPS = 10
SIZE = 96
DEFAULT_CHUNK_SIZE = 1000
DEFAULT_DATA_FILE_SIZE_IN_MB = 100
DEFAULT_VIDEO_FILE_SIZE_IN_MB = 500
DEFAULT_DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
DEFAULT_EPISODES_PATH = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
DEFAULT_IMAGE_PATH = "images/{image_key}/episode-{episode_index:06d}/frame-{frame_index:06d}.png"
TASK_TEXT = "Move the current number to the target number, one step at a time."

DEFAULT_FEATURES = {
    "timestamp": {"dtype": "float32", "shape": (1,), "names": None},
    "frame_index": {"dtype": "int64", "shape": (1,), "names": None},
    "episode_index": {"dtype": "int64", "shape": (1,), "names": None},
    "index": {"dtype": "int64", "shape": (1,), "names": None},
    "task_index": {"dtype": "int64", "shape": (1,), "names": None},
}

FEATURES = {
    "observation.image": {"dtype": "image", "shape": (SIZE, SIZE, 3), "names": ["height", "width", "channels"]},
    "action": {"dtype": "int64", "shape": (1,), "names": ["action_id"]},
    "next.reward": {"dtype": "float32", "shape": (1,), "names": None},
    "next.done": {"dtype": "bool", "shape": (1,), "names": None},
    "next.truncated": {"dtype": "bool", "shape": (1,), "names": None},
    "next.success": {"dtype": "bool", "shape": (1,), "names": None},
    **DEFAULT_FEATURES,
}


def get_hf_features_from_features(features):
    hf_features = {}
    for key, ft in features.items():
        if ft["dtype"] == "video":
            continue
        elif ft["dtype"] == "image":
            hf_features[key] = datasets.Image()
        elif ft["shape"] == (1,):
            hf_features[key] = datasets.Value(dtype=ft["dtype"])
        elif len(ft["shape"]) == 1:
            hf_features[key] = datasets.Sequence(length=ft["shape"][0], feature=datasets.Value(dtype=ft["dtype"]))
        else:
            raise ValueError(f"not needed by the sample: {ft}")
    return datasets.Features(hf_features)


def embed_images(dataset):
    fmt = dataset.format
    dataset = dataset.with_format("arrow")
    dataset = dataset.map(embed_table_storage, batched=False)
    dataset = dataset.with_format(**fmt)
    return dataset


def stats_of(values):
    a = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    return {"min": a.min(axis=0).tolist(), "max": a.max(axis=0).tolist(), "mean": a.mean(axis=0).tolist(),
            "std": a.std(axis=0).tolist(), "count": [len(values)]}


def main():
    episodes_dir, root, expected_path = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(os.path.join(episodes_dir, "episodes.json")) as f:
        eps = json.load(f)
    if os.path.exists(root):
        shutil.rmtree(root)
    os.makedirs(os.path.join(root, "meta"))
    hf_features = get_hf_features_from_features(FEATURES)
    tasks = pd.DataFrame({"task_index": [0]}, index=pd.Index([TASK_TEXT], name="task"))
    tasks.to_parquet(os.path.join(root, "meta", "tasks.parquet"))

    data_path = os.path.join(root, DEFAULT_DATA_PATH.format(chunk_index=0, file_index=0))
    os.makedirs(os.path.dirname(data_path), exist_ok=True)
    writer = None
    image_root = tempfile.mkdtemp()
    global_index = 0
    episode_rows = []
    numeric = {k: [] for k in ("action", "next.reward", "timestamp", "frame_index", "episode_index", "index", "task_index")}
    try:
        for episode_index, ep in enumerate(eps):
            n = len(ep["rewards"])
            buffer = {k: [] for k in FEATURES}
            for t in range(n):
                png = Image.open(os.path.join(episodes_dir, ep["observations"][t]["png"])).convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)
                fpath = os.path.join(image_root, DEFAULT_IMAGE_PATH.format(image_key="observation.image", episode_index=episode_index, frame_index=t))
                os.makedirs(os.path.dirname(fpath), exist_ok=True)
                Image.fromarray(np.asarray(png, dtype=np.uint8)).save(fpath, compress_level=1)
                done = bool(ep["terminations"][t] or ep["truncations"][t])
                buffer["observation.image"].append(fpath)
                buffer["action"].append(np.int64(ep["actions"][t]))
                buffer["next.reward"].append(np.float32(ep["rewards"][t]))
                buffer["next.done"].append(done)
                buffer["next.truncated"].append(bool(ep["truncations"][t]))
                buffer["next.success"].append(bool(ep["terminations"][t] and ep["rewards"][t] > 0))
                buffer["timestamp"].append(np.float32(t / FPS))
                buffer["frame_index"].append(t)
                buffer["episode_index"].append(episode_index)
                buffer["index"].append(global_index + t)
                buffer["task_index"].append(0)
            ep_dict = {key: buffer[key] for key in hf_features}
            ep_dataset = datasets.Dataset.from_dict(ep_dict, features=hf_features, split="train")
            ep_dataset = embed_images(ep_dataset)
            table = ep_dataset.with_format("arrow")[:]
            if writer is None:
                writer = pq.ParquetWriter(data_path, schema=table.schema, compression="snappy", use_dictionary=True)
            writer.write_table(table)
            for k in numeric:
                numeric[k].extend(buffer[k])
            row = {
                "episode_index": episode_index, "tasks": [TASK_TEXT], "length": n,
                "data/chunk_index": 0, "data/file_index": 0,
                "dataset_from_index": global_index, "dataset_to_index": global_index + n,
                "meta/episodes/chunk_index": 0, "meta/episodes/file_index": 0,
            }
            for k in ("action", "next.reward"):
                for stat, v in stats_of(buffer[k]).items():
                    row[f"stats/{k}/{stat}"] = v
            episode_rows.append(row)
            global_index += n
    finally:
        if writer is not None:
            writer.close()
        shutil.rmtree(image_root)

    episodes_path = os.path.join(root, DEFAULT_EPISODES_PATH.format(chunk_index=0, file_index=0))
    os.makedirs(os.path.dirname(episodes_path), exist_ok=True)
    pd.DataFrame(episode_rows).to_parquet(episodes_path)

    info = {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": None,
        "total_episodes": len(eps),
        "total_frames": global_index,
        "total_tasks": 1,
        "chunks_size": DEFAULT_CHUNK_SIZE,
        "data_files_size_in_mb": DEFAULT_DATA_FILE_SIZE_IN_MB,
        "video_files_size_in_mb": DEFAULT_VIDEO_FILE_SIZE_IN_MB,
        "fps": FPS,
        "splits": {"train": f"0:{len(eps)}"},
        "data_path": DEFAULT_DATA_PATH,
        "video_path": None,
        "features": {k: {**v, "shape": list(v["shape"])} for k, v in FEATURES.items()},
    }
    with open(os.path.join(root, "meta", "info.json"), "w") as f:
        json.dump(info, f, indent=4, ensure_ascii=False)
    with open(os.path.join(root, "meta", "stats.json"), "w") as f:
        json.dump({k: stats_of(v) for k, v in numeric.items()}, f, indent=4)
    first = pq.read_table(data_path, columns=["observation.image"]).column(0)[0].as_py()["bytes"]
    with open(expected_path, "w") as f:
        json.dump({"lerobot": {
            "rows": global_index, "episodes": len(eps),
            "reward_sum": float(sum(sum(e["rewards"]) for e in eps)),
            "terminated": sum(sum(bool(x) for x in e["terminations"]) for e in eps),
            "truncated": sum(sum(bool(x) for x in e["truncations"]) for e in eps),
            "first_image_sha256": hashlib.sha256(first).hexdigest(), "image": "bytes",
        }}, f, indent=1)


if __name__ == "__main__":
    main()
