"""The training script: hydra composes conf/config.yaml with a model and an optimiser group."""

from dora import get_xp, hydra_main


@hydra_main(config_path="conf", config_name="config", version_base="1.3")
def main(cfg):
    xp = get_xp()
    for epoch in range(cfg.epochs):
        loss = cfg.lr * cfg.model.dim / (epoch + 1)
        xp.link.push_metrics({"epoch": epoch, "train": {"loss": loss}})
    print(f"done {xp.sig}")


if __name__ == "__main__":
    main()
