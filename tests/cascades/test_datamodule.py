"""CascadeDataset / CascadeDataModule splits."""

import pytest
import torch

from influence_gpu.cascades import CascadeData, CascadeDataModule, CascadeDataset


def make_data(K=50, n=4):
    x0 = torch.zeros(K, n)
    x0[:, 0] = 1
    xT = x0.clone()
    xT[:, 1] = torch.arange(K) % 2
    x0[:, 3] = (torch.arange(K) >= 0).float() * 0  # keep 0/1
    return CascadeData(x0, xT, torch.tensor([[0], [1]]), n, "toy")


def test_dataset_items():
    d = make_data()
    ds = CascadeDataset(d.x0, d.xT)
    assert len(ds) == 50 and ds[3][1][1].item() == 1.0


def test_random_split_is_seeded_and_disjoint():
    dm = CascadeDataModule(make_data(), split_seed=3)
    dm.setup()
    tr, te = set(dm.train_index.tolist()), set(dm.test_index.tolist())
    assert len(tr) == 40 and len(te) == 10 and not tr & te
    assert torch.equal(dm.val_index, dm.train_index)  # val_fraction = 0: validate on train
    again = CascadeDataModule(make_data(), split_seed=3)
    assert torch.equal(again.test_index, dm.test_index)
    other = CascadeDataModule(make_data(), split_seed=4)
    assert not torch.equal(other.test_index, dm.test_index)
    batch = next(iter(dm.train_dataloader()))
    assert batch[0].shape == (10, 4)


def test_first_k_split_and_val_fraction():
    dm = CascadeDataModule(make_data(), num_train=30, val_fraction=0.2)
    assert dm.test_index.tolist() == list(range(30, 50))
    assert len(dm.val_index) == 6 and len(dm.train_index) == 24
    assert not set(dm.val_index.tolist()) & set(dm.train_index.tolist())
    assert dm.num_nodes == 4 and dm.edge_index.shape == (2, 1)


@pytest.mark.parametrize(
    "kw", [dict(num_train=50), dict(train_fraction=0.0), dict(batch_size=0), dict(val_fraction=1.0)]
)
def test_bad_splits(kw):
    with pytest.raises(ValueError):
        CascadeDataModule(make_data(), **kw)


def test_cascade_data_validation():
    with pytest.raises(ValueError):
        CascadeData(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2, 0), 3)
    with pytest.raises(ValueError):
        CascadeData(torch.full((2, 3), 0.5), torch.zeros(2, 3), torch.zeros(2, 0), 3)
    with pytest.raises(ValueError):
        CascadeData(torch.zeros(2, 3), torch.zeros(2, 3), torch.tensor([[0], [5]]), 3)
