//! A layered drawing of a DAG, top to bottom, sized to fit a page's width (Sugiyama's method,
//! kept small):
//!
//! 1. **Layers.** An op sits one layer below its deepest upstream; a layer holds at most
//!    [`PER_LAYER`] ops, and an op that finds its layer full moves down (so 50 independent
//!    ops wrap onto several layers instead of one very wide one).
//! 2. **Long edges** get a waypoint in every layer they cross (a lane, with its own place in
//!    that layer), so no edge is ever drawn across an op. The long edges of one upstream op
//!    share their lanes, or those into one downstream op when it has more: a fan-out or a
//!    fan-in takes one lane per layer, not one per edge.
//! 3. **Order.** Within each layer, ops and waypoints are sorted by the mean position of their
//!    neighbours, sweeping down then up; the order with the fewest crossings is kept.
//! 4. **Place.** Each item is pulled towards its neighbours' mean, keeping the layer's order and
//!    spacing (the mean of a left-to-right and a right-to-left greedy placement), and never
//!    past the width of the widest layer packed.

use std::collections::HashMap;

/// Ops per layer at most: what fits the page's width.
pub const PER_LAYER: usize = 7;
pub const NODE_W: f64 = 160.0;
pub const NODE_H: f64 = 30.0;
const GAP_X: f64 = 18.0;
/// The width a lane of long edges takes in a layer, and the space between two lanes.
const LANE_W: f64 = 2.0;
const LANE_GAP: f64 = 5.0;
const GAP_Y: f64 = 34.0;
pub const PAD: f64 = 10.0;
const SWEEPS: usize = 6;

/// Long edges that share a lane: those of one upstream op (fan-out), or those into one
/// downstream op (fan-in), whichever has more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Bundle {
    From(usize),
    Into(usize),
}

/// Something in a layer: an op (its index), or a bundle's lane in layer `.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Item {
    Op(usize),
    Lane(Bundle, usize),
}

/// An edge (upstream index, downstream index) and the points it runs through.
pub type Edge = (usize, usize, Vec<(f64, f64)>);

/// Where everything is drawn.
#[derive(Debug)]
pub struct Drawing {
    /// Each op's top-left corner, by index.
    pub ops: Vec<(f64, f64)>,
    /// Each edge (upstream index, downstream index) as the points it runs through, from the
    /// upstream op's bottom to the downstream op's top.
    pub edges: Vec<Edge>,
    pub width: f64,
    pub height: f64,
}

/// Lays out ops `0..n` whose upstream ops are `upstream[i]` (indices; cycles are not
/// expected: an edge that does not point down is left out).
pub fn layout(upstream: &[Vec<usize>]) -> Drawing {
    let n = upstream.len();
    let layer = layers(upstream);
    let edges: Vec<(usize, usize)> = upstream
        .iter()
        .enumerate()
        .flat_map(|(t, ups)| ups.iter().map(move |&s| (s, t)))
        .filter(|&(s, t)| layer[s] < layer[t])
        .collect();
    // Each edge as the items it passes, a lane in every layer between its ends.
    let long = |&&(s, t): &&(usize, usize)| layer[t] > layer[s] + 1;
    let (mut fan_out, mut fan_in) = (vec![0usize; n], vec![0usize; n]);
    for &(s, t) in edges.iter().filter(long) {
        fan_out[s] += 1;
        fan_in[t] += 1;
    }
    let paths: Vec<Vec<Item>> = edges
        .iter()
        .map(|&(s, t)| {
            let bundle = if fan_out[s] >= fan_in[t] {
                Bundle::From(s)
            } else {
                Bundle::Into(t)
            };
            std::iter::once(Item::Op(s))
                .chain((layer[s] + 1..layer[t]).map(|l| Item::Lane(bundle, l)))
                .chain(std::iter::once(Item::Op(t)))
                .collect()
        })
        .collect();
    let depth = layer.iter().max().map_or(0, |d| d + 1);
    let mut rows: Vec<Vec<Item>> = vec![Vec::new(); depth];
    for i in 0..n {
        rows[layer[i]].push(Item::Op(i));
    }
    let mut lanes = std::collections::HashSet::new();
    for item in paths.iter().flatten() {
        if let Item::Lane(_, l) = *item
            && lanes.insert(*item)
        {
            rows[l].push(*item);
        }
    }
    // Neighbours one layer up and one layer down of every item.
    let mut up: HashMap<Item, Vec<Item>> = HashMap::new();
    let mut down: HashMap<Item, Vec<Item>> = HashMap::new();
    for path in &paths {
        for pair in path.windows(2) {
            up.entry(pair[1]).or_default().push(pair[0]);
            down.entry(pair[0]).or_default().push(pair[1]);
        }
    }
    for v in up.values_mut().chain(down.values_mut()) {
        let mut seen = std::collections::HashSet::new();
        v.retain(|i| seen.insert(*i));
    }
    order(&mut rows, &up, &down);
    let x = place(&rows, &up, &down);
    let left = rows
        .iter()
        .flatten()
        .map(|i| x[i] - width(*i) / 2.0)
        .fold(f64::INFINITY, f64::min);
    let shift = PAD - if left.is_finite() { left } else { 0.0 };
    let top = |l: usize| PAD + l as f64 * (NODE_H + GAP_Y);
    let ops: Vec<(f64, f64)> = (0..n)
        .map(|i| (x[&Item::Op(i)] + shift - NODE_W / 2.0, top(layer[i])))
        .collect();
    let drawn = edges
        .iter()
        .zip(&paths)
        .map(|(&(s, t), path)| {
            let mut points = vec![(ops[s].0 + NODE_W / 2.0, ops[s].1 + NODE_H)];
            for item in &path[1..path.len() - 1] {
                if let Item::Lane(_, l) = *item {
                    let lane = x[item] + shift;
                    points.push((lane, top(l)));
                    points.push((lane, top(l) + NODE_H));
                }
            }
            points.push((ops[t].0 + NODE_W / 2.0, ops[t].1));
            (s, t, points)
        })
        .collect();
    let right = rows
        .iter()
        .flatten()
        .map(|i| x[i] + shift + width(*i) / 2.0)
        .fold(0.0, f64::max);
    Drawing {
        ops,
        edges: drawn,
        width: right + PAD,
        height: top(depth.max(1)) - GAP_Y + PAD,
    }
}

/// Each op's layer: below its deepest upstream, and below any layer already full.
fn layers(upstream: &[Vec<usize>]) -> Vec<usize> {
    let n = upstream.len();
    let mut layer: Vec<Option<usize>> = vec![None; n];
    let mut filled: Vec<usize> = Vec::new();
    // Ops in dependency order (specs list them so); an op listed before an upstream of it
    // waits for it, and a cycle is broken by taking the first op left.
    let mut left: Vec<usize> = (0..n).collect();
    while !left.is_empty() {
        let at = left
            .iter()
            .position(|&i| upstream[i].iter().all(|&s| s == i || layer[s].is_some()))
            .unwrap_or(0);
        let i = left.remove(at);
        let mut l = upstream[i]
            .iter()
            .filter_map(|&s| layer[s])
            .map(|d| d + 1)
            .max()
            .unwrap_or(0);
        while filled.get(l).is_some_and(|&c| c >= PER_LAYER) {
            l += 1;
        }
        if filled.len() <= l {
            filled.resize(l + 1, 0);
        }
        filled[l] += 1;
        layer[i] = Some(l);
    }
    layer.into_iter().map(|l| l.unwrap_or(0)).collect()
}

/// Sorts every layer by its neighbours' mean position, keeping the order with fewest crossings.
fn order(rows: &mut [Vec<Item>], up: &HashMap<Item, Vec<Item>>, down: &HashMap<Item, Vec<Item>>) {
    let mut best = rows.to_vec();
    let mut fewest = crossings(rows, up);
    for sweep in 0..SWEEPS {
        let downward = sweep % 2 == 0;
        let layers = sweep_order(rows.len(), downward);
        for l in layers {
            let (fixed, neighbours) = if downward {
                (&rows[l - 1], up)
            } else {
                (&rows[l + 1], down)
            };
            let at: HashMap<Item, usize> = fixed.iter().enumerate().map(|(i, v)| (*v, i)).collect();
            let mut keyed: Vec<(f64, usize, Item)> = rows[l]
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    // no neighbour on that side: stay where it is, relative to the layer
                    let key = mean(neighbours, item, |v| at.get(v).map(|&p| p as f64))
                        .unwrap_or(i as f64 * fixed.len() as f64 / rows[l].len().max(1) as f64);
                    (key, i, *item)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            rows[l] = keyed.into_iter().map(|k| k.2).collect();
        }
        let now = crossings(rows, up);
        if now < fewest {
            fewest = now;
            best = rows.to_vec();
        }
    }
    rows.clone_from_slice(&best);
}

/// Edge crossings between every two adjacent layers.
fn crossings(rows: &[Vec<Item>], up: &HashMap<Item, Vec<Item>>) -> usize {
    let mut total = 0;
    for pair in rows.windows(2) {
        let at: HashMap<Item, usize> = pair[0].iter().enumerate().map(|(i, v)| (*v, i)).collect();
        let edges: Vec<(usize, usize)> = pair[1]
            .iter()
            .enumerate()
            .flat_map(|(j, item)| {
                up.get(item)
                    .into_iter()
                    .flatten()
                    .filter_map(|u| at.get(u))
                    .map(move |&i| (i, j))
            })
            .collect();
        for (k, a) in edges.iter().enumerate() {
            total += edges[k + 1..]
                .iter()
                .filter(|b| (a.0 < b.0 && a.1 > b.1) || (a.0 > b.0 && a.1 < b.1))
                .count();
        }
    }
    total
}

/// The layers a sweep visits, in order: each after the one whose positions it follows.
fn sweep_order(layers: usize, downward: bool) -> Vec<usize> {
    if downward {
        (1..layers).collect()
    } else {
        (0..layers.saturating_sub(1)).rev().collect()
    }
}

/// The mean of `value` over `item`'s neighbours on one side, if it has any with a value.
fn mean(
    neighbours: &HashMap<Item, Vec<Item>>,
    item: &Item,
    value: impl Fn(&Item) -> Option<f64>,
) -> Option<f64> {
    let near: Vec<f64> = neighbours
        .get(item)
        .into_iter()
        .flatten()
        .filter_map(value)
        .collect();
    (!near.is_empty()).then(|| near.iter().sum::<f64>() / near.len() as f64)
}

fn width(item: Item) -> f64 {
    match item {
        Item::Op(_) => NODE_W,
        Item::Lane(..) => LANE_W,
    }
}

/// The space between the centres of two neighbours in a layer: lanes sit closer together
/// than ops.
fn gap(a: Item, b: Item) -> f64 {
    let between = match (a, b) {
        (Item::Op(_), Item::Op(_)) => GAP_X,
        (Item::Lane(..), Item::Lane(..)) => LANE_GAP,
        _ => GAP_X / 2.0,
    };
    (width(a) + width(b)) / 2.0 + between
}

/// Horizontal centres: every item pulled towards its neighbours' mean, order and spacing kept.
fn place(
    rows: &[Vec<Item>],
    up: &HashMap<Item, Vec<Item>>,
    down: &HashMap<Item, Vec<Item>>,
) -> HashMap<Item, f64> {
    // Each row packed from the left; no item leaves the band its row can slide in within
    // the widest row, so the drawing is never wider than that row packed.
    let packed: Vec<Vec<f64>> = rows
        .iter()
        .map(|row| {
            let mut at = row.first().map_or(0.0, |i| width(*i) / 2.0);
            let mut centres = Vec::with_capacity(row.len());
            for (k, item) in row.iter().enumerate() {
                if k > 0 {
                    at += gap(row[k - 1], *item);
                }
                centres.push(at);
            }
            centres
        })
        .collect();
    let span = |l: usize| {
        rows[l]
            .last()
            .map_or(0.0, |i| packed[l].last().unwrap_or(&0.0) + width(*i) / 2.0)
    };
    let widest = (0..rows.len()).map(span).fold(0.0, f64::max);
    let mut x: HashMap<Item, f64> = HashMap::new();
    for (l, row) in rows.iter().enumerate() {
        let slack = widest - span(l);
        for (k, item) in row.iter().enumerate() {
            x.insert(*item, packed[l][k] + slack / 2.0);
        }
    }
    for sweep in 0..SWEEPS {
        let downward = sweep % 2 == 0;
        let neighbours = if downward { up } else { down };
        let layers = sweep_order(rows.len(), downward);
        for l in layers {
            let row = &rows[l];
            let slack = widest - span(l);
            let wanted: Vec<f64> = row
                .iter()
                .enumerate()
                .map(|(k, item)| {
                    let want = mean(neighbours, item, |v| Some(x[v])).unwrap_or(x[item]);
                    want.clamp(packed[l][k], packed[l][k] + slack)
                })
                .collect();
            let mut from_left = wanted.clone();
            for k in 1..row.len() {
                from_left[k] = from_left[k].max(from_left[k - 1] + gap(row[k - 1], row[k]));
            }
            let mut from_right = wanted;
            for k in (0..row.len().saturating_sub(1)).rev() {
                from_right[k] = from_right[k].min(from_right[k + 1] - gap(row[k], row[k + 1]));
            }
            for (k, item) in row.iter().enumerate() {
                x.insert(*item, (from_left[k] + from_right[k]) / 2.0);
            }
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxes_overlap(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < NODE_W && (a.1 - b.1).abs() < NODE_H
    }

    #[test]
    fn ops_sit_below_their_deepest_upstream_and_never_overlap() {
        // a → b → c, a → c, d alone
        let d = layout(&[vec![], vec![0], vec![0, 1], vec![]]);
        assert_eq!(d.ops[0].1, d.ops[3].1);
        assert!(d.ops[1].1 > d.ops[0].1 && d.ops[2].1 > d.ops[1].1);
        for i in 0..4 {
            for j in i + 1..4 {
                assert!(!boxes_overlap(d.ops[i], d.ops[j]), "{i} and {j}");
            }
        }
    }

    #[test]
    fn a_long_edge_runs_beside_the_ops_it_passes_not_through_them() {
        // a → b → c → d and a → d: the long edge passes layers 1 and 2.
        let d = layout(&[vec![], vec![0], vec![1], vec![2, 0]]);
        let (_, _, points) = d.edges.iter().find(|e| (e.0, e.1) == (0, 3)).unwrap();
        assert_eq!(
            points.len(),
            2 + 2 * 2,
            "a waypoint pair in each layer crossed"
        );
        for &(x, y) in &points[1..points.len() - 1] {
            for op in [1, 2] {
                let (ox, oy) = d.ops[op];
                let inside = x > ox && x < ox + NODE_W && y >= oy && y <= oy + NODE_H;
                assert!(!inside, "the edge a → d crosses op {op}");
            }
        }
    }

    /// Every lane segment (the vertical part of a long edge inside a layer) is clear of ops.
    fn assert_no_edge_crosses_an_op(d: &Drawing) {
        for (s, t, points) in &d.edges {
            for pair in points.windows(2) {
                let ((x1, y1), (x2, y2)) = (pair[0], pair[1]);
                if x1 != x2 {
                    continue; // a curve between two layers, where no op is
                }
                for (i, &(ox, oy)) in d.ops.iter().enumerate() {
                    let beside = x1 <= ox || x1 >= ox + NODE_W;
                    let apart = y2 <= oy || y1 >= oy + NODE_H;
                    assert!(beside || apart, "edge {s} → {t} crosses op {i}");
                }
            }
        }
    }

    fn fits(d: &Drawing) {
        let page = PER_LAYER as f64 * (NODE_W + GAP_X) + 2.0 * PAD;
        assert!(
            d.width <= page,
            "width {} is more than a page ({page})",
            d.width
        );
    }

    #[test]
    fn fan_ins_and_fan_outs_take_one_lane_and_fit_the_page() {
        // 50 independent ops, and one that reads them all
        let mut fan_in: Vec<Vec<usize>> = vec![vec![]; 50];
        fan_in.push((0..50).collect());
        let d = layout(&fan_in);
        fits(&d);
        assert_no_edge_crosses_an_op(&d);
        // one source read by 200 ops
        let fan_out: Vec<Vec<usize>> = (0..201)
            .map(|i| if i == 0 { vec![] } else { vec![0] })
            .collect();
        let d = layout(&fan_out);
        fits(&d);
        assert_no_edge_crosses_an_op(&d);
    }

    #[test]
    fn no_edge_crosses_an_op_whatever_the_shape() {
        let shapes: Vec<Vec<Vec<usize>>> = vec![
            // chains joined far apart, as flows grow
            (0..120)
                .map(|i: usize| match i {
                    0..3 => vec![],
                    _ => vec![i - 3, (i * 37) % (i - 2)],
                })
                .collect(),
            // skip edges over a chain
            (0..40)
                .map(|i: usize| match i {
                    0 => vec![],
                    _ => vec![i - 1, i / 2, i / 5],
                })
                .collect(),
        ];
        for upstream in &shapes {
            let d = layout(upstream);
            fits(&d);
            assert_no_edge_crosses_an_op(&d);
        }
    }

    #[test]
    fn wide_flows_wrap_to_fit_the_page() {
        let d = layout(&vec![vec![]; 50]);
        assert!(d.width <= PER_LAYER as f64 * (NODE_W + GAP_X) + 2.0 * PAD);
        let layers: std::collections::BTreeSet<u64> = d.ops.iter().map(|o| o.1 as u64).collect();
        assert_eq!(layers.len(), 50usize.div_ceil(PER_LAYER));
    }

    #[test]
    fn the_order_kept_has_no_needless_crossing() {
        // two chains listed crosswise: a1 b1 / a2 b2 with b1 ← a2 and b2 ← a1
        let d = layout(&[vec![], vec![], vec![1], vec![0]]);
        let (a1, a2, b1, b2) = (d.ops[0].0, d.ops[1].0, d.ops[2].0, d.ops[3].0);
        assert_eq!(a1 < a2, b2 < b1, "each chain stays on its side");
    }

    #[test]
    fn two_hundred_ops_stay_as_wide_as_a_page() {
        // each op depends on the one before and on one far above
        let upstream: Vec<Vec<usize>> = (0..200)
            .map(|i: usize| match i {
                0 => vec![],
                _ => vec![i - 1, i / 3],
            })
            .collect();
        let d = layout(&upstream);
        assert_eq!(d.ops.len(), 200);
        assert!(d.width <= 1400.0, "width {}", d.width);
        assert!(
            d.height > 200.0 / PER_LAYER as f64 * NODE_H,
            "wrapped onto layers"
        );
    }
}
