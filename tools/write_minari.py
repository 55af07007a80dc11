"""Writes the Minari samples (HDF5 storage and Parquet storage) from episodes played by o2o's envs.

Usage: python tools/write_minari.py EPISODES_DIR OUT_DIR EXPECTED_JSON
  EPISODES_DIR: episodes.json + one PNG per observation (written by tools/make_samples.ts)
  OUT_DIR/minari-hdf5/data/{main_data.hdf5, metadata.json}
  OUT_DIR/minari-parquet/data/{metadata.json, <episode_id>/part-0.parquet, <episode_id>/metadata.json}
  OUT_DIR/minari-arrow/data/{metadata.json, <episode_id>/part-0.arrow, <episode_id>/metadata.json}

The files are laid out the way Minari's own storages write them (Farama-Foundation/Minari,
minari/dataset/_storages/hdf5_storage.py `update_episodes` / `_add_episode_to_group`,
parquet_storage.py `update_episodes` / `_encode_space`, minari_storage.py `new`, serialization.py), so
that o2o's importer is tested against the real on-disk shapes:
  - HDF5: a group `episode_{id}` per episode (attrs id, seed, total_steps); a Dict observation space is a
    subgroup with one dataset per key, T+1 entries; actions, rewards, terminations, truncations T entries,
    created with chunks=True and maxshape=(None, ...); Text as UTF-8 vlen strings; `infos` one JSON text
    per entry (create_dict_dataset_in_group).
  - Parquet: pyarrow.dataset.write_dataset partitioned by episode_id; T+1 rows with actions, rewards and
    flags padded by one row; image subspaces as JPEG bytes (PIL, default quality); infos a struct.
  - metadata.json: data_format, the spaces serialised as JSON strings, env_spec as JSON text, dataset_id.
The images are the envs' 300x300 renders, downscaled (HDF5 and Arrow store raw uint8 arrays: 32x32 and
16x16 keep the samples small; Parquet stores JPEG: 96x96).
"""
import hashlib
import io
import json
import os
import shutil
import string
import sys

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
from gymnasium import spaces
from gymnasium.envs.registration import EnvSpec
from PIL import Image

try:  # Minari's serde: orjson when installed, else json
    import orjson

    def serialize_dict(d):
        return orjson.dumps(d, option=orjson.OPT_SERIALIZE_NUMPY)
except ImportError:
    def serialize_dict(d):
        return json.dumps(d)


# ---- minari/serialization.py (serialize_space) ----

def serialize_space(space, to_string=True):
    if isinstance(space, spaces.Box):
        result = {"type": "Box", "dtype": str(space.dtype), "shape": list(space.shape),
                  "low": space.low.tolist(), "high": space.high.tolist()}
    elif isinstance(space, spaces.Discrete):
        result = {"type": "Discrete", "dtype": "int64", "start": int(space.start), "n": int(space.n)}
    elif isinstance(space, spaces.Dict):
        result = {"type": "Dict", "subspaces": {k: serialize_space(s, to_string=False) for k, s in space.spaces.items()}}
    elif isinstance(space, spaces.Text):
        result = {"type": "Text", "max_length": space.max_length, "min_length": space.min_length,
                  "charset": space.characters}
    else:
        raise NotImplementedError(space)
    return json.dumps(result) if to_string else result


def load(episodes_dir):
    with open(os.path.join(episodes_dir, "episodes.json")) as f:
        return json.load(f)


def frames(episodes_dir, ep, size):
    out = []
    for o in ep["observations"]:
        img = Image.open(os.path.join(episodes_dir, o["png"])).convert("RGB").resize((size, size), Image.BILINEAR)
        out.append(np.asarray(img, dtype=np.uint8))
    return np.stack(out)


def spaces_for(size):
    charset = string.printable  # prompts hold letters, digits, punctuation and newlines
    obs = spaces.Dict({"image": spaces.Box(0, 255, (size, size, 3), np.uint8),
                       "prompt": spaces.Text(max_length=8192, min_length=0, charset=charset)})
    return obs, spaces.Discrete(2)


def write_metadata(data_path, data_format, obs_space, act_space, task, dataset_id, eps):
    spec = EnvSpec(id=task, entry_point="o2o.envs:GymCardsEnv", max_episode_steps=300)
    total_steps = sum(len(e["rewards"]) for e in eps)
    metadata = {
        "total_episodes": len(eps),
        "total_steps": total_steps,
        "data_format": data_format,
        "observation_space": serialize_space(obs_space),
        "action_space": serialize_space(act_space),
        "env_spec": spec.to_json(),
        "dataset_id": dataset_id,
        "algorithm_name": "o2o scripted policies (expert / noisy / random)",
        "author": ["o2o"],
        "minari_version": "0.5.3",
    }
    with open(os.path.join(data_path, "metadata.json"), "w") as f:
        json.dump(metadata, f)


def start_dataset(out_dir, folder, data_format, size, dataset_id, eps):
    """The data folder with its metadata.json (minari_storage.new + the dataset's update_metadata)."""
    data_path = os.path.join(out_dir, folder, "data")
    os.makedirs(data_path, exist_ok=True)
    obs_space, act_space = spaces_for(size)
    write_metadata(data_path, data_format, obs_space, act_space, eps[0]["task"], dataset_id, eps)
    return data_path


def add_episode_to_group(episode_buffer, episode_group):
    """minari hdf5_storage._add_episode_to_group, for the value kinds the sample holds."""
    for key, data in episode_buffer.items():
        if key == "infos":
            serialized = [serialize_dict(d) for d in data]
            dataset = episode_group.create_dataset("infos", (len(serialized),), dtype=h5py.special_dtype(vlen=str))
            dataset[:] = serialized
        elif isinstance(data, dict):
            sub = episode_group[key] if key in episode_group else episode_group.create_group(key)
            add_episode_to_group(data, sub)
        else:
            dtype = None
            if all(map(lambda elem: isinstance(elem, str), data)):
                dtype = h5py.string_dtype(encoding="utf-8")
            dshape = ()
            if hasattr(data[0], "shape"):
                dshape = data[0].shape
            episode_group.create_dataset(key, data=data, dtype=dtype, chunks=True, maxshape=(None, *dshape))


def write_hdf5(episodes_dir, eps, out_dir, size=32):
    data_path = start_dataset(out_dir, "minari-hdf5", "hdf5", size, "gym_cards/numberline-mixed-v0", eps)
    with h5py.File(os.path.join(data_path, "main_data.hdf5"), "a", track_order=True) as file:
        for episode_id, ep in enumerate(eps):
            group = file.create_group(f"episode_{episode_id}")
            group.attrs["id"] = episode_id
            group.attrs["seed"] = ep["seed"]
            group.attrs["total_steps"] = len(ep["rewards"])
            add_episode_to_group({
                "observations": {"image": list(frames(episodes_dir, ep, size)),
                                 "prompt": [o["text"] for o in ep["observations"]]},
                "actions": [np.int64(a) for a in ep["actions"]],
                "rewards": ep["rewards"],
                "terminations": ep["terminations"],
                "truncations": ep["truncations"],
                "infos": [{"t": t} for t in range(len(ep["observations"]))],
            }, group)


def jpeg_column(values):
    """minari parquet_storage._encode_space for an image space."""
    out = []
    for frame in values:
        buffer = io.BytesIO()
        Image.fromarray(frame).save(buffer, format="JPEG")
        out.append(buffer.getvalue())
    return pa.array(out, type=pa.binary())


def write_parquet(episodes_dir, eps, out_dir, size=96):
    data_path = start_dataset(out_dir, "minari-parquet", "parquet", size, "gym_cards/numberline-mixed-jpeg-v0", eps)
    for episode_id, ep in enumerate(eps):
        rewards = np.asarray(ep["rewards"], dtype=np.float64).reshape(-1)
        terminations = np.asarray(ep["terminations"]).reshape(-1)
        truncations = np.asarray(ep["truncations"]).reshape(-1)
        prompts = [o["text"] for o in ep["observations"]]
        observations = pa.StructArray.from_arrays(
            [jpeg_column(frames(episodes_dir, ep, size)), pa.array(prompts)], names=["image", "prompt"])
        pad = len(observations) - len(rewards)
        actions = np.pad(np.asarray(ep["actions"], dtype=np.int64).reshape(-1, 1), ((0, pad), (0, 0)))
        infos = pa.StructArray.from_arrays([pa.array(list(range(len(observations))))], fields=[pa.field("t", pa.int64())])
        batch = pa.RecordBatch.from_pydict({
            "episode_id": np.full(len(observations), episode_id, dtype=np.int32),
            "observations": observations,
            "actions": pa.array(actions.squeeze(-1), type=pa.from_numpy_dtype(np.int64)),
            "rewards": np.pad(rewards, ((0, pad))),
            "terminations": np.pad(terminations, ((0, pad))),
            "truncations": np.pad(truncations, ((0, pad))),
            "infos": infos,
        })
        ds.write_dataset(batch, data_path, format="parquet", partitioning=["episode_id"],
                         existing_data_behavior="overwrite_or_ignore")
        with open(os.path.join(data_path, str(episode_id), "metadata.json"), "w") as f:
            json.dump({"id": episode_id, "total_steps": len(rewards), "seed": ep["seed"]}, f)


def summary(eps, first_image):
    """What o2o's import of these episodes must give (checked by test/ingest)."""
    return {
        "rows": sum(len(e["rewards"]) for e in eps),
        "episodes": len(eps),
        "reward_sum": float(sum(sum(e["rewards"]) for e in eps)),
        "terminated": sum(sum(bool(x) for x in e["terminations"]) for e in eps),
        "truncated": sum(sum(bool(x) for x in e["truncations"]) for e in eps),
        "first_image_sha256": hashlib.sha256(first_image).hexdigest(),
    }


def write_arrow(episodes_dir, eps, out_dir, size=16):
    """minari arrow_storage.update_episodes / _encode_space: Box as flattened fixed-size lists, Discrete as
    int32, infos as one JSON text per row (encode_info_list), T+1 rows with actions/rewards/flags padded."""
    data_path = start_dataset(out_dir, "minari-arrow", "arrow", size, "gym_cards/numberline-mixed-raw-v0", eps)
    for episode_id, ep in enumerate(eps):
        images = frames(episodes_dir, ep, size)
        prompts = [o["text"] for o in ep["observations"]]
        rewards = np.asarray(ep["rewards"], dtype=np.float64).reshape(-1)
        terminations = np.asarray(ep["terminations"]).reshape(-1)
        truncations = np.asarray(ep["truncations"]).reshape(-1)
        flat = images.reshape(images.shape[0], -1)
        image_array = pa.FixedSizeListArray.from_arrays(flat.reshape(-1), type=pa.list_(pa.from_numpy_dtype(np.uint8), list_size=flat.shape[1]))
        observations = pa.StructArray.from_arrays([image_array, pa.array(prompts)], names=["image", "prompt"])
        pad = len(observations) - len(rewards)
        actions = np.pad(np.asarray(ep["actions"]).reshape(-1, 1), ((0, pad), (0, 0)))
        infos = [{"t": t} for t in range(len(observations))]
        batch = pa.RecordBatch.from_pydict({
            "episode_id": np.full(len(observations), episode_id, dtype=np.int32),
            "observations": observations,
            "actions": pa.array(actions.squeeze(-1), type=pa.int32()),
            "rewards": np.pad(rewards, ((0, pad))),
            "terminations": np.pad(terminations, ((0, pad))),
            "truncations": np.pad(truncations, ((0, pad))),
            "infos": pa.array([serialize_dict(d) for d in infos], type=pa.string()),
        })
        ds.write_dataset(batch, data_path, format="arrow", partitioning=["episode_id"],
                         existing_data_behavior="overwrite_or_ignore")
        with open(os.path.join(data_path, str(episode_id), "metadata.json"), "w") as f:
            json.dump({"id": episode_id, "total_steps": len(rewards), "seed": ep["seed"]}, f)


def main():
    episodes_dir, out_dir, expected_path = sys.argv[1], sys.argv[2], sys.argv[3]
    eps = load(episodes_dir)
    small = eps[-6:]
    eps = eps[:-6]
    half = len(eps) // 2
    for sub in ("minari-hdf5", "minari-parquet", "minari-arrow"):
        target = os.path.join(out_dir, sub)
        if os.path.exists(target):
            shutil.rmtree(target)
    write_hdf5(episodes_dir, eps[:half], out_dir)
    write_parquet(episodes_dir, eps[half:], out_dir)
    write_arrow(episodes_dir, small, out_dir)
    raw = frames(episodes_dir, eps[0], 32)[0]
    buffer = io.BytesIO()
    Image.fromarray(frames(episodes_dir, eps[half], 96)[0]).save(buffer, format="JPEG")
    with open(expected_path, "w") as f:
        json.dump({
            # HDF5 holds raw pixels: the import encodes them as PNG, so the check is on the decoded RGB bytes
            "minari-hdf5": {**summary(eps[:half], raw.tobytes()), "image": "rgb"},
            "minari-parquet": {**summary(eps[half:], buffer.getvalue()), "image": "bytes"},
            "minari-arrow": {**summary(small, frames(episodes_dir, small[0], 16)[0].tobytes()), "image": "rgb"},
        }, f, indent=1)


if __name__ == "__main__":
    main()
