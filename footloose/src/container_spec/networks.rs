//! The networks a machine is on: the cluster's own copies of the
//! config's networks, the network footloose reaches it on, and networks
//! named by id.

use std::collections::HashMap;

use super::container_plan::ContainerPlan;

/// The name of a cluster's own copy of the network `network` named in
/// its config.
pub fn private_network_name(cluster: &str, network: &str) -> String {
    format!("{cluster}-{network}")
}

impl ContainerPlan {
    /// The plan with the machine also on `network`, where footloose
    /// reaches its sshd (see [`Route`](crate::reach::Route)), as an extra
    /// network (attached without an alias: it is not footloose's).
    /// `default_network` is where the engine puts a container that asks
    /// for none: a machine that asks for none is on it already.
    pub fn reachable_on(mut self, network: &str, default_network: &str) -> ContainerPlan {
        let already = match &self.network {
            None => network == default_network,
            Some(first) => first == network,
        } || self.extra_networks.iter().any(|n| n == network);
        if !already {
            self.extra_networks.push(network.to_owned());
        }
        self
    }

    /// The plan with networks named by id (`ids` maps name to id), so that
    /// two networks of one name, which Docker allows for a moment while
    /// creators race, cannot make the request ambiguous.
    pub fn with_network_ids(mut self, ids: &HashMap<String, String>) -> ContainerPlan {
        let by_id = |name: &String| ids.get(name).cloned().unwrap_or_else(|| name.clone());
        self.network = self.network.as_ref().map(by_id);
        self.extra_networks = self.extra_networks.iter().map(by_id).collect();
        self
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::private_network_name;
    use crate::container_spec::tests::{planned, V1};

    #[test]
    fn a_machine_joins_the_network_it_is_reached_on_once() {
        let own = planned("", V1).reachable_on("ci", "bridge");
        assert_eq!(own.network, None, "it stays on the default network too");
        assert_eq!(own.extra_networks, ["ci"]);
        let default = planned("", V1).reachable_on("bridge", "bridge");
        assert_eq!(default.network, None, "the default network takes no alias");
        let extra = planned("    networks: [front]\n", V1).reachable_on("ci", "bridge");
        assert_eq!(extra.network.as_deref(), Some("front"));
        assert_eq!(extra.extra_networks, ["ci"]);
        let listed = planned("    networks: [front, ci]\n", V1).reachable_on("ci", "bridge");
        assert_eq!(listed.extra_networks, ["ci"]);
    }

    #[test]
    fn networks_can_be_named_by_id() {
        let ids = HashMap::from([
            ("front".to_owned(), "1d".to_owned()),
            ("back".to_owned(), "2d".to_owned()),
        ]);
        let p = planned("    networks: [front, back]\n", V1).with_network_ids(&ids);
        assert_eq!(p.network.as_deref(), Some("1d"));
        assert_eq!(p.extra_networks, ["2d"]);
        assert_eq!(
            private_network_name("t-1a2b3c-0", "front"),
            "t-1a2b3c-0-front"
        );
    }
}
