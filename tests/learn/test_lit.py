"""Lightning modules: training, logged keys, checkpoint round trip."""

import lightning
import torch

from influence_gpu.cascades import CascadeDataModule, synthetic_cascades
from influence_gpu.graph.generators import barabasi_albert
from influence_gpu.learn import LTNNLitModule, RWNNLitModule


def _trainer(tmp_path, steps=40):
    return lightning.Trainer(
        max_steps=steps,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
        enable_checkpointing=False,
    )


def _dm():
    g = barabasi_albert(30, 4, seed=0)
    return CascadeDataModule(synthetic_cascades(g, 60, seed=0), split_seed=0)


def test_ltnn_checkpoint_round_trip(tmp_path):
    lightning.seed_everything(0)
    dm = _dm()
    model = LTNNLitModule(dm.num_nodes, dm.edge_index, normalize=False)
    trainer = _trainer(tmp_path)
    trainer.fit(model, datamodule=dm)
    assert {"train/loss", "train/accuracy", "val/loss", "val/accuracy"} <= set(
        trainer.callback_metrics
    )
    trainer.test(model, datamodule=dm, verbose=False)
    assert "test/accuracy" in trainer.callback_metrics
    path = tmp_path / "m.ckpt"
    trainer.save_checkpoint(path)
    loaded = LTNNLitModule.load_from_checkpoint(path)
    x0 = dm.test_dataset.x0
    assert torch.equal(loaded.predict(x0), model.predict(x0))
    assert torch.allclose(loaded(x0), model(x0))
    assert loaded.hparams["num_edges"] == model.net.num_edges
    assert "edge_index" not in loaded.hparams
    g = loaded.to_diffusion_graph()
    assert g.num_nodes == dm.num_nodes


def test_rwnn_checkpoint_round_trip_and_optimizer(tmp_path):
    from functools import partial

    lightning.seed_everything(0)
    dm = _dm()
    model = RWNNLitModule(
        dm.num_nodes, dm.edge_index, top_m=5, optimizer=partial(torch.optim.SGD, lr=0.1)
    )
    assert isinstance(model.configure_optimizers(), torch.optim.SGD)
    before = model.net.weight2.detach().clone()
    trainer = _trainer(tmp_path, steps=10)
    trainer.fit(model, datamodule=dm)
    assert not torch.equal(before, model.net.weight2.detach())
    w1 = model.net.weight1.detach()
    assert float(w1.min()) >= 0 and float(w1.max()) <= 1
    path = tmp_path / "r.ckpt"
    trainer.save_checkpoint(path)
    loaded = RWNNLitModule.load_from_checkpoint(path)
    x0 = dm.test_dataset.x0
    assert torch.equal(loaded.predict(x0), model.predict(x0))
    assert loaded.net.num_two_hop == model.net.num_two_hop
