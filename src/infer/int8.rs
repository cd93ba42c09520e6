//! The int8 encoder for CPU: a BERT whose linear layers run as int8 matrix products
//! through libtorch's fbgemm operators, built from the float weights of any BERT
//! checkpoint when it is loaded ("quantised on load": a few hundred milliseconds).
//!
//! Weights are quantised once, symmetrically with one scale per output channel
//! (per-channel: the fbgemm operator takes one scale, so each weight row is divided by its
//! largest magnitude before quantising, and the output columns multiplied back);
//! activations are quantised per call by fbgemm
//! (`fbgemm_linear_int8_weight_fp32_activation`), so inputs and outputs stay float32.
//! Measured on the dev splits (`experiments/int8_sensitivity.py`): per-tensor weight scales
//! cost 0.73 points of CoNLL dev F1, per-channel ones 0.04. Embeddings, layer norms,
//! attention products and the task heads stay float32: they are a small share of the time
//! and the most sensitive to rounding.
//!
//! Weights use 7 of int8's bits (`[-63, 63]`): on CPUs without VNNI (AVX2, AVX-512 before
//! Cascade Lake) fbgemm multiplies uint8 activations by int8 weights with `vpmaddubsw`,
//! which adds pairs of products in *saturating* int16. Full-range weights overflow it
//! (255·127·2 > 32767): measured on an AVX2 machine, 1.7% of the outputs of the embedded
//! model's layers went wrong by up to 22% of the layer's largest output. With 7-bit weights
//! no pair can overflow (255·63·2 < 32767), so every x86 CPU computes the same exact integer
//! products (`experiments/int8_saturation.py`).

use std::collections::HashMap;
use std::sync::Once;

use tch::{Device, Kind, Scalar, Tensor};

use crate::error::{Error, Result};

/// The largest quantised weight magnitude: 7 bits, so that fbgemm's int16 pair sums
/// cannot saturate on CPUs without VNNI (see the module docs).
const WEIGHT_MAX: i32 = 63;

/// A linear layer with an int8 weight packed for fbgemm: `y = ((x/t)·Qᵀ·s) ⊙ t ⊙ r + b`,
/// where `Q` is the int8 weight of the rows scaled to magnitude 1, `s` its scale, `r` the
/// rows' largest magnitudes and `t` each input row's largest magnitude.
#[derive(Debug)]
pub(super) struct QLinear {
    weight: Tensor,
    packed: Tensor,
    col_offsets: Tensor,
    scale: f64,
    bias: Tensor,
    /// Zeros: fbgemm's bias argument (the bias is added after the per-token scaling).
    zero: Tensor,
    /// `r`: per output channel, the largest magnitude of its weight row.
    rows: Tensor,
}

impl QLinear {
    /// Quantise a float `[out, in]` weight.
    pub(super) fn new(weight: &Tensor, bias: &Tensor) -> Result<Self> {
        silence_deprecation_notes();
        Self::quantize(&weight.detach(), &bias.detach())
    }

    fn quantize(weight: &Tensor, bias: &Tensor) -> Result<Self> {
        let w = weight.to_kind(Kind::Float);
        // An all-zero row still needs a positive scale.
        let rows = w
            .f_abs()?
            .f_amax([1].as_slice(), false)?
            .f_clamp_min(f64::from(f32::MIN_POSITIVE))?;
        let w = w.f_div(&rows.f_unsqueeze(1)?)?.contiguous();
        let scale = 1.0 / f64::from(WEIGHT_MAX);
        let q = w
            .f_quantize_per_tensor(scale, 0, Kind::QInt8)?
            .f_int_repr()?
            .contiguous();
        let packed = q.f_fbgemm_pack_quantized_matrix()?;
        // fbgemm's column offsets: each output row's sum of int8 weights (zero point 0).
        let col_offsets = q
            .f_sum_dim_intlist(1, false, Kind::Int)?
            .to_kind(Kind::Int)
            .contiguous();
        Ok(QLinear {
            weight: q,
            packed,
            col_offsets,
            scale,
            bias: bias.to_kind(Kind::Float).contiguous(),
            zero: rows.f_zeros_like()?,
            rows,
        })
    }

    fn share(&self) -> QLinear {
        QLinear {
            weight: self.weight.shallow_clone(),
            packed: self.packed.shallow_clone(),
            col_offsets: self.col_offsets.shallow_clone(),
            scale: self.scale,
            bias: self.bias.shallow_clone(),
            zero: self.zero.shallow_clone(),
            rows: self.rows.shallow_clone(),
        }
    }

    pub(super) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let size = x.size();
        let k = size.last().copied().unwrap_or(0);
        let x = x.f_reshape([-1, k])?;
        let m = x.size()[0];
        // Per-token activations: each row divided by its largest magnitude `t`, so every
        // row lies in [-1, 1]; fbgemm then quantises the whole input with one range. A guard
        // row (1, -1, 0, …) pins that range to exactly [-1, 1]: each row is quantised the
        // same whatever the rows batched with it, so results do not depend on batching.
        let tokens = x
            .f_abs()?
            .f_amax([-1].as_slice(), true)?
            .f_clamp_min(f64::from(f32::MIN_POSITIVE))?;
        let scaled = Tensor::f_empty([m + 1, k], (Kind::Float, x.device()))?;
        let _ = x.f_div_out(&scaled.f_narrow(0, 0, m)?, &tokens)?;
        let mut guard = scaled.f_narrow(0, m, 1)?;
        let _ = guard.f_zero_()?;
        let _ = guard.f_narrow(1, 0, 1)?.f_fill_(1.0)?;
        if k > 1 {
            let _ = guard.f_narrow(1, 1, 1)?.f_fill_(-1.0)?;
        }
        let y = scaled
            .f_fbgemm_linear_int8_weight_fp32_activation(
                &self.weight,
                &self.packed,
                &self.col_offsets,
                Scalar::float(self.scale),
                Scalar::int(0),
                &self.zero,
            )?
            .f_narrow(0, 0, m)?;
        // (y ⊙ t) ⊙ r + b
        let y = y.f_mul(&tokens)?.f_mul_(&self.rows)?.f_add_(&self.bias)?;
        let mut out_size = size;
        if let Some(last) = out_size.last_mut() {
            *last = self.rows.size()[0];
        }
        Ok(y.f_view(out_size.as_slice())?)
    }
}

/// libtorch 2.4 prints a deprecation note on the first call of each of the two fbgemm
/// operators used here (they are part of the pinned torch; a later torch would move this
/// encoder to `quantized::linear_dynamic`). Make those first calls once per process, on a
/// 2×2 weight, while file descriptor 2 points to /dev/null, so that runs do not print them.
fn silence_deprecation_notes() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _quiet = QuietStderr::new();
        let opts = (Kind::Float, Device::Cpu);
        if let Ok(l) = QLinear::quantize(&Tensor::ones([2, 2], opts), &Tensor::zeros([2], opts)) {
            let _ = l.forward(&Tensor::ones([1, 2], opts));
        }
    });
}

/// Standard error redirected to /dev/null until dropped.
struct QuietStderr {
    saved: libc::c_int,
}

impl QuietStderr {
    fn new() -> Option<Self> {
        // SAFETY: plain file-descriptor calls; every descriptor opened here is closed, and
        // fd 2 is restored from `saved` on drop.
        unsafe {
            let saved = libc::dup(2);
            if saved < 0 {
                return None;
            }
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            if null < 0 {
                libc::close(saved);
                return None;
            }
            libc::dup2(null, 2);
            libc::close(null);
            Some(QuietStderr { saved })
        }
    }
}

impl Drop for QuietStderr {
    fn drop(&mut self) {
        // SAFETY: `saved` is the descriptor duplicated in `new`, still open.
        unsafe {
            libc::dup2(self.saved, 2);
            libc::close(self.saved);
        }
    }
}

/// A linear layer of the encoder: int8, or (tests only) float32 to check the encoder's
/// arithmetic against rust-bert's.
#[derive(Debug)]
enum Linear {
    Int8(QLinear),
    #[cfg(test)]
    Float {
        weight: Tensor,
        bias: Tensor,
    },
}

impl Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Linear::Int8(q) => q.forward(x),
            #[cfg(test)]
            Linear::Float { weight, bias } => Ok(x.f_linear(weight, Some(bias))?),
        }
    }

    fn share(&self) -> Linear {
        match self {
            Linear::Int8(q) => Linear::Int8(q.share()),
            #[cfg(test)]
            Linear::Float { weight, bias } => Linear::Float {
                weight: weight.shallow_clone(),
                bias: bias.shallow_clone(),
            },
        }
    }
}

/// The activation between a layer's two feed-forward matrices (`hidden_act`).
#[derive(Debug, Clone, Copy)]
enum Activation {
    Gelu,
    GeluNew,
    Relu,
}

impl Activation {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "gelu" => Some(Activation::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" => Some(Activation::GeluNew),
            "relu" => Some(Activation::Relu),
            _ => None,
        }
    }

    fn apply(self, x: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Activation::Gelu => x.f_gelu("none")?,
            Activation::GeluNew => x.f_gelu("tanh")?,
            Activation::Relu => x.f_relu()?,
        })
    }
}

#[derive(Debug)]
struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
}

#[derive(Debug)]
struct Layer {
    /// Query, key and value projections as one `[3·hidden, hidden]` matrix: one product
    /// and one activation scaling instead of three.
    qkv: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

/// What the encoder needs from a BERT config besides its weights.
pub(super) struct BertShape {
    /// Prefix of the encoder's weight names (`bert`).
    pub(super) prefix: String,
    pub(super) n_layers: i64,
    pub(super) n_heads: i64,
    pub(super) eps: f64,
    pub(super) hidden_act: String,
    pub(super) with_pooler: bool,
}

/// A BERT encoder with int8 linear layers. Its tensors are shared (not copied) by every
/// replica.
#[derive(Debug)]
pub(super) struct Int8Bert {
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    embeddings_norm: LayerNorm,
    layers: Vec<Layer>,
    pooler: Option<(Tensor, Tensor)>,
    n_heads: i64,
    eps: f64,
    activation: Activation,
}

/// The encoder's outputs for a batch: the last hidden states `[batch, len, hidden]` and
/// the pooled output `[batch, hidden]` (the pooler's, else the `[CLS]` hidden state).
pub(super) struct Encoded {
    pub(super) hidden: Tensor,
    pub(super) pooled: Tensor,
}

impl Int8Bert {
    /// Build from a BERT's float weights named as in a Hugging Face checkpoint under
    /// `prefix` (`bert.embeddings.word_embeddings.weight`, …). Fails (with the reason) for a
    /// configuration this encoder does not implement.
    pub(super) fn from_weights(vars: &HashMap<String, Tensor>, shape: &BertShape) -> Result<Self> {
        Self::build(vars, shape, &|w, b| Ok(Linear::Int8(QLinear::new(w, b)?)))
    }

    /// The same encoder with float32 linear layers: rust-bert's arithmetic, for tests.
    #[cfg(test)]
    fn float_from_weights(vars: &HashMap<String, Tensor>, shape: &BertShape) -> Result<Self> {
        Self::build(vars, shape, &|w, b| {
            Ok(Linear::Float {
                weight: w.shallow_clone(),
                bias: b.shallow_clone(),
            })
        })
    }

    fn build(
        vars: &HashMap<String, Tensor>,
        shape: &BertShape,
        make_linear: &dyn Fn(&Tensor, &Tensor) -> Result<Linear>,
    ) -> Result<Self> {
        let BertShape {
            prefix,
            n_layers,
            n_heads,
            eps,
            hidden_act,
            with_pooler,
        } = shape;
        let (n_layers, n_heads, eps, with_pooler) = (*n_layers, *n_heads, *eps, *with_pooler);
        let activation = Activation::parse(hidden_act).ok_or_else(|| {
            Error::Inference(format!(
                "the int8 encoder implements the activations gelu, gelu_new and relu, not {hidden_act}"
            ))
        })?;
        let get = |name: &str| -> Result<Tensor> {
            let full = format!("{prefix}.{name}");
            // Detached: inference only, whatever the caller's gradient mode.
            vars.get(&full)
                .map(|t| t.detach().to_kind(Kind::Float).contiguous())
                .ok_or_else(|| Error::Inference(format!("int8 encoder: no weight {full}")))
        };
        let linear = |name: &str| -> Result<Linear> {
            make_linear(
                &get(&format!("{name}.weight"))?,
                &get(&format!("{name}.bias"))?,
            )
        };
        let norm = |name: &str| -> Result<LayerNorm> {
            Ok(LayerNorm {
                weight: get(&format!("{name}.weight"))?,
                bias: get(&format!("{name}.bias"))?,
            })
        };
        let qkv = |l: &str| -> Result<Linear> {
            let part = |p: &str, what: &str| get(&format!("{l}.attention.self.{p}.{what}"));
            let cat = |what: &str| -> Result<Tensor> {
                let parts = [
                    part("query", what)?,
                    part("key", what)?,
                    part("value", what)?,
                ];
                Ok(Tensor::f_cat(&parts, 0)?)
            };
            make_linear(&cat("weight")?, &cat("bias")?)
        };
        let mut layers = Vec::with_capacity(n_layers as usize);
        for i in 0..n_layers {
            let l = format!("encoder.layer.{i}");
            layers.push(Layer {
                qkv: qkv(&l)?,
                attention_out: linear(&format!("{l}.attention.output.dense"))?,
                attention_norm: norm(&format!("{l}.attention.output.LayerNorm"))?,
                intermediate: linear(&format!("{l}.intermediate.dense"))?,
                output: linear(&format!("{l}.output.dense"))?,
                output_norm: norm(&format!("{l}.output.LayerNorm"))?,
            });
        }
        let pooler = if with_pooler {
            Some((get("pooler.dense.weight")?, get("pooler.dense.bias")?))
        } else {
            None
        };
        Ok(Int8Bert {
            word: get("embeddings.word_embeddings.weight")?,
            position: get("embeddings.position_embeddings.weight")?,
            token_type: get("embeddings.token_type_embeddings.weight")?,
            embeddings_norm: norm("embeddings.LayerNorm")?,
            layers,
            pooler,
            n_heads,
            eps,
            activation,
        })
    }

    /// Another handle on the same weights (no copy), for another stream.
    pub(super) fn share(&self) -> Int8Bert {
        let norm = |n: &LayerNorm| LayerNorm {
            weight: n.weight.shallow_clone(),
            bias: n.bias.shallow_clone(),
        };
        Int8Bert {
            word: self.word.shallow_clone(),
            position: self.position.shallow_clone(),
            token_type: self.token_type.shallow_clone(),
            embeddings_norm: norm(&self.embeddings_norm),
            layers: self
                .layers
                .iter()
                .map(|l| Layer {
                    qkv: l.qkv.share(),
                    attention_out: l.attention_out.share(),
                    attention_norm: norm(&l.attention_norm),
                    intermediate: l.intermediate.share(),
                    output: l.output.share(),
                    output_norm: norm(&l.output_norm),
                })
                .collect(),
            pooler: self
                .pooler
                .as_ref()
                .map(|(w, b)| (w.shallow_clone(), b.shallow_clone())),
            n_heads: self.n_heads,
            eps: self.eps,
            activation: self.activation,
        }
    }

    fn layer_norm(&self, x: &Tensor, n: &LayerNorm) -> Result<Tensor> {
        let hidden = x.size().last().copied().unwrap_or(0);
        Ok(x.f_layer_norm([hidden], Some(&n.weight), Some(&n.bias), self.eps, false)?)
    }

    /// Encode a batch: `ids`, `mask` and `types` are `[batch, len]` int64.
    pub(super) fn forward(&self, ids: &Tensor, mask: &Tensor, types: &Tensor) -> Result<Encoded> {
        let (b, len) = ids.size2()?;
        let positions = Tensor::f_arange(len, (Kind::Int64, ids.device()))?;
        let lookup =
            |table: &Tensor, idx: &Tensor| Tensor::f_embedding(table, idx, -1, false, false);
        let emb = lookup(&self.word, ids)?
            + lookup(&self.position, &positions)?
            + lookup(&self.token_type, types)?;
        let mut x = self.layer_norm(&emb, &self.embeddings_norm)?;
        // Attention may look at real tokens only: a [batch, 1, 1, len] boolean mask.
        let keep = mask.f_gt(0)?.f_view([b, 1, 1, len])?;
        let hidden = x.size()[2];
        let head_dim = hidden / self.n_heads;
        let heads = |t: &Tensor| -> Result<Tensor> {
            Ok(t.f_reshape([b, len, self.n_heads, head_dim])?
                .f_transpose(1, 2)?)
        };
        for l in &self.layers {
            let qkv = l.qkv.forward(&x)?.f_split(hidden, -1)?;
            let [q, k, v] = [heads(&qkv[0])?, heads(&qkv[1])?, heads(&qkv[2])?];
            let ctx = Tensor::f_scaled_dot_product_attention(
                &q,
                &k,
                &v,
                Some(&keep),
                0.0,
                false,
                None::<f64>,
            )?
            .f_transpose(1, 2)?
            .f_reshape([b, len, hidden])?;
            let attended =
                self.layer_norm(&(l.attention_out.forward(&ctx)? + &x), &l.attention_norm)?;
            let inner = self.activation.apply(&l.intermediate.forward(&attended)?)?;
            x = self.layer_norm(&(l.output.forward(&inner)? + &attended), &l.output_norm)?;
        }
        let cls = x.f_select(1, 0)?;
        let pooled = match &self.pooler {
            Some((w, bias)) => cls.f_linear(w, Some(bias))?.f_tanh()?,
            None => cls,
        };
        Ok(Encoded { hidden: x, pooled })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infer::model::{bert_shape, Encoder, LoadedModel};
    use crate::infer::tests::tiny;
    use crate::infer::{ModelSpec, Precision};

    fn max_abs(t: &Tensor) -> f64 {
        t.abs().max().double_value(&[])
    }

    #[test]
    fn int8_linear_is_int8_and_close_to_float() {
        tch::manual_seed(3);
        let w = Tensor::randn([64, 48], (Kind::Float, Device::Cpu)) * 0.05;
        let b = Tensor::randn([64], (Kind::Float, Device::Cpu)) * 0.1;
        let x = Tensor::randn([2, 5, 48], (Kind::Float, Device::Cpu));
        let q = QLinear::new(&w, &b).expect("quantise");
        assert_eq!(q.weight.kind(), Kind::Int8);
        let want = x.linear(&w, Some(&b));
        let got = q.forward(&x).expect("forward");
        assert_eq!(got.size(), [2, 5, 64]);
        let err = max_abs(&(&got - &want)) / max_abs(&want);
        assert!(err < 0.03, "relative error {err}");
        assert!(err > 0.0, "int8 arithmetic differs from float");
    }

    /// Inputs and weights all at their largest magnitudes: with full-range int8 weights,
    /// fbgemm's AVX2 kernel saturates its int16 pair sums (255·127·2 > 32767) and returns
    /// 1 where the product is 64. 7-bit weights give the exact result on every CPU.
    #[test]
    fn extreme_inputs_and_weights_do_not_saturate() {
        let k = 64;
        let w = Tensor::ones([4, k], (Kind::Float, Device::Cpu));
        let _ = w.get(1).fill_(-1.0);
        let b = Tensor::zeros([4], (Kind::Float, Device::Cpu));
        let x = Tensor::ones([3, k], (Kind::Float, Device::Cpu));
        let _ = x.get(1).fill_(-1.0);
        let q = QLinear::new(&w, &b).expect("quantise");
        let want = x.linear(&w, Some(&b));
        let got = q.forward(&x).expect("forward");
        let err = max_abs(&(&got - &want)) / max_abs(&want);
        assert!(err < 0.02, "relative error {err}: int16 saturation?\n{got}");
    }

    /// The tiny model's float weights, its config and rust-bert's encoder on them.
    fn tiny_float() -> (tempfile::TempDir, LoadedModel, BertShape) {
        let (d, spec) = tiny();
        let dir = match &spec {
            ModelSpec::Local(p) => p.clone(),
            _ => unreachable!(),
        };
        let cfg: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).expect("cfg"))
                .expect("json");
        let bert_cfg = serde_json::from_value(cfg.clone()).expect("bert config");
        let m = LoadedModel::load(&spec, Device::Cpu, 64, Precision::Fp32, 1).expect("load");
        (d, m, bert_shape(&cfg, &bert_cfg, true))
    }

    fn batch() -> (Tensor, Tensor, Tensor) {
        let ids = Tensor::from_slice(&[2i64, 7, 9, 11, 5, 3, 2, 8, 6, 3, 0, 0]).view([2, 6]);
        let mask = Tensor::from_slice(&[1i64, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]).view([2, 6]);
        let types = Tensor::from_slice(&[0i64, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0]).view([2, 6]);
        (ids, mask, types)
    }

    #[test]
    fn encoder_matches_rust_bert_in_float_and_stays_close_in_int8() {
        let (_d, m, shape) = tiny_float();
        let replica = m.replicas[0].lock().expect("replica");
        let Encoder::Float { _vs: vs, .. } = &replica.encoder else {
            panic!("fp32 model has a float encoder")
        };
        let vars = vs.variables();
        let (ids, mask, types) = batch();
        let real = mask.view([2, 6, 1]).to_kind(Kind::Float);
        let reference = replica
            .encoder
            .forward(&ids, &mask, &types)
            .expect("rust-bert");

        // Same weights, float linears: the same function as rust-bert's BERT.
        let float = Int8Bert::float_from_weights(&vars, &shape).expect("float");
        let got = float.forward(&ids, &mask, &types).expect("forward");
        let diff = max_abs(&((&got.hidden - &reference.hidden) * &real));
        assert!(diff < 1e-4, "hidden states differ by {diff}");
        assert!(max_abs(&(&got.pooled - &reference.pooled)) < 1e-4);

        // int8 linears: close, not equal.
        let int8 = Int8Bert::from_weights(&vars, &shape).expect("int8");
        let got = int8.forward(&ids, &mask, &types).expect("forward");
        let err =
            max_abs(&((&got.hidden - &reference.hidden) * &real)) / max_abs(&reference.hidden);
        assert!(err > 0.0 && err < 0.05, "relative error {err}");
        // A replica computes the same as the encoder it shares weights with.
        let again = int8.share().forward(&ids, &mask, &types).expect("forward");
        assert_eq!(max_abs(&(&again.hidden - &got.hidden)), 0.0);
    }

    #[test]
    fn unsupported_activation_is_a_clear_error() {
        let (_d, m, mut shape) = tiny_float();
        let replica = m.replicas[0].lock().expect("replica");
        let Encoder::Float { _vs: vs, .. } = &replica.encoder else {
            panic!("fp32 model has a float encoder")
        };
        shape.hidden_act = "swish".into();
        let err = Int8Bert::from_weights(&vs.variables(), &shape).expect_err("swish");
        assert!(err.to_string().contains("not swish"), "{err}");
    }
}
