//! Shared reading of a canary's traffic routing for the routing rules.

use crate::yaml::NodeRef;

/// The routers a canary's `trafficRouting` configures.
pub struct Routers<'a> {
    pub node: Option<NodeRef<'a>>,
    pub nginx: Option<NodeRef<'a>>,
    pub alb: Option<NodeRef<'a>>,
    pub istio: Option<NodeRef<'a>>,
    pub smi: Option<NodeRef<'a>>,
    pub ambassador: Option<NodeRef<'a>>,
    pub app_mesh: Option<NodeRef<'a>>,
    pub traefik: Option<NodeRef<'a>>,
    pub apisix: Option<NodeRef<'a>>,
    pub plugins: Option<NodeRef<'a>>,
}

impl<'a> Routers<'a> {
    pub fn of(canary: NodeRef<'a>) -> Routers<'a> {
        let node = canary.get_set("trafficRouting");
        let get = |k: &str| node.and_then(|n| n.get_set(k));
        Routers {
            node,
            nginx: get("nginx"),
            alb: get("alb"),
            istio: get("istio"),
            smi: get("smi"),
            ambassador: get("ambassador"),
            app_mesh: get("appMesh"),
            traefik: get("traefik"),
            apisix: get("apisix"),
            plugins: get("plugins").filter(|p| !p.is_empty()),
        }
    }

    /// Where to point when a feature needs traffic routing: `trafficRouting`, or the canary.
    pub fn names(&self) -> Vec<&'static str> {
        [
            ("nginx", self.nginx),
            ("alb", self.alb),
            ("istio", self.istio),
            ("smi", self.smi),
            ("ambassador", self.ambassador),
            ("appMesh", self.app_mesh),
            ("traefik", self.traefik),
            ("apisix", self.apisix),
            ("plugins", self.plugins),
        ]
        .into_iter()
        .filter_map(|(name, n)| n.map(|_| name))
        .collect()
    }
}

/// The canary of a Rollout's spec, if it is one.
pub fn canary<'a>(spec: Option<NodeRef<'a>>) -> Option<NodeRef<'a>> {
    spec?.path(&["strategy", "canary"]).filter(|c| !c.is_null())
}

/// A string field that is set and not empty.
pub fn non_empty<'a>(node: NodeRef<'a>, key: &str) -> Option<&'a str> {
    node.get_str(key).filter(|s| !s.is_empty())
}
