//! footloose's networks as Incus managed bridges.
//!
//! Two things differ from Docker's networks. An Incus network's name is a
//! host interface name (15 characters at most): a longer footloose name
//! becomes `fl` and a digest of it, and the name as written is kept in the
//! network's `user.name` key. And Incus cannot choose a subnet on every
//! host (`incus admin init --minimal` fails where it finds no free one), so
//! footloose proposes one: a /24 of 10.0.0.0/8 picked from the name, the
//! next one while Incus says it overlaps.

use std::collections::HashMap;

use hyper::Method;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::client::{ApiError, Client};
use super::keys;
use super::refusal::{refused, ENGINE};
use crate::backend::error::{BackendError, EngineFailure};
use crate::backend::model::NetworkInfo;
use crate::error::{Error, Result};

/// The key holding a network's footloose name.
const NAME: &str = "user.name";
/// How many subnets are proposed before giving up.
const SUBNET_TRIES: u32 = 16;

#[derive(Debug, Deserialize)]
struct Network {
    name: String,
    #[serde(default)]
    managed: bool,
    #[serde(default, deserialize_with = "super::instances::nullable")]
    config: HashMap<String, String>,
}

impl Network {
    fn info(&self) -> NetworkInfo {
        NetworkInfo {
            id: self.name.clone(),
            name: self
                .config
                .get(NAME)
                .cloned()
                .unwrap_or_else(|| self.name.clone()),
            created: String::new(),
            labels: keys::labels(&self.config),
        }
    }
}

/// The Incus name of the footloose network `name`.
pub(super) fn incus_name(name: &str) -> String {
    let fits = name.len() <= 15
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_alphabetic());
    if fits {
        return name.to_owned();
    }
    let digest = Sha256::digest(name.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("fl{}", &hex[..13])
}

/// The `attempt`th subnet proposed for `name`: `10.A.B.1/24`, A in
/// 100..=249.
fn subnet(name: &str, attempt: u32) -> String {
    let digest = Sha256::digest(name.as_bytes());
    let seed = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    let n = seed.wrapping_add(attempt.wrapping_mul(7919)) % (150 * 256);
    format!("10.{}.{}.1/24", 100 + n / 256, n % 256)
}

pub(super) async fn create(
    client: &Client,
    name: &str,
    labels: &HashMap<String, String>,
) -> Result<String> {
    let id = incus_name(name);
    let action = format!("creating network {name}");
    let mut config: serde_json::Map<String, Value> = keys::config(labels)
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    config.insert(NAME.to_owned(), Value::String(name.to_owned()));
    config.insert("ipv6.address".to_owned(), Value::String("none".to_owned()));
    config.insert("ipv4.nat".to_owned(), Value::String("true".to_owned()));
    let mut last = None;
    for attempt in 0..SUBNET_TRIES {
        config.insert(
            "ipv4.address".to_owned(),
            Value::String(subnet(name, attempt)),
        );
        let request = json!({"name": id, "type": "bridge", "config": config});
        match client.call(Method::POST, "/1.0/networks", &request).await {
            Ok(_) => return Ok(id),
            Err(e) if e.status() == Some(409) || e.to_string().contains("already exists") => {
                return Err(Error::from(BackendError::Engine {
                    engine: ENGINE.to_owned(),
                    action,
                    kind: EngineFailure::Conflict,
                    message: e.to_string(),
                }))
            }
            Err(e)
                if e.to_string().to_lowercase().contains("overlap")
                    || e.to_string().contains("in use") =>
            {
                last = Some(e)
            }
            Err(e) => return Err(refused(action, e)),
        }
    }
    Err(refused(action, last.expect("tried at least once")))
}

pub(super) async fn find(client: &Client, name: &str) -> Result<Option<NetworkInfo>> {
    let path = format!("/1.0/networks/{}", incus_name(name));
    let found: Option<Network> = client
        .find(&path)
        .await
        .map_err(|e| refused(format!("inspecting network {name}"), e))?;
    Ok(found.map(|n| n.info()))
}

pub(super) async fn labelled(client: &Client, selector: &[String]) -> Result<Vec<NetworkInfo>> {
    let all: Vec<Network> = client
        .get("/1.0/networks?recursion=1")
        .await
        .map_err(|e| refused("listing networks", e))?;
    Ok(all
        .iter()
        .filter(|n| n.managed && keys::matches(&n.config, selector))
        .map(Network::info)
        .collect())
}

/// The resolver a machine on the Incus network `id` asks: the bridge's
/// own address (its dnsmasq) and its DNS domain, `None` for a network
/// Incus does not give an address.
pub(super) async fn resolver(client: &Client, id: &str) -> Result<Option<(String, String)>> {
    let found: Option<Network> = client
        .find(&format!("/1.0/networks/{id}"))
        .await
        .map_err(|e| refused(format!("inspecting network {id}"), e))?;
    Ok(found.and_then(|network| {
        let address = network
            .config
            .get("ipv4.address")?
            .split('/')
            .next()?
            .to_owned();
        let domain = network
            .config
            .get("dns.domain")
            .cloned()
            .unwrap_or_else(|| "incus".to_owned());
        Some((address, domain))
    }))
}

/// How many times a change of a network's names is tried while others
/// change it too.
const ALIAS_TRIES: u32 = 20;

/// The `raw.dnsmasq` line that makes `alias` a name of `instance`.
fn alias_line(alias: &str, instance: &str) -> String {
    format!("cname={alias},{instance}")
}

/// Makes `alias` (a machine's hostname) a name of `instance` on the
/// footloose network `network`, as Docker's network aliases do: a
/// `cname` of the network's dnsmasq, which knows each instance by its
/// name. Incus keeps dnsmasq's options in one key, so the change is made
/// only while the network is as it was read (its ETag), and tried again
/// when another creator changed it first.
pub(super) async fn add_alias(
    client: &Client,
    network: &str,
    alias: &str,
    instance: &str,
) -> Result<()> {
    let line = alias_line(alias, instance);
    edit_names(
        client,
        network,
        &format!("naming {instance} {alias} on network {network}"),
        |lines| {
            if !lines.contains(&line) {
                lines.push(line.clone());
            }
        },
    )
    .await
}

/// Removes the names of `instance` from the footloose network `network`.
pub(super) async fn remove_aliases(client: &Client, network: &str, instance: &str) -> Result<()> {
    let suffix = format!(",{instance}");
    edit_names(
        client,
        network,
        &format!("removing the names of {instance} from network {network}"),
        |lines| lines.retain(|l| !(l.starts_with("cname=") && l.ends_with(&suffix))),
    )
    .await
}

/// Incus applies a network change by restarting its dnsmasq and
/// rewriting its firewall rules; two changes of one network at once may
/// trip over each other's rules (seen with Incus 6.0: "Failed clearing
/// firewall"), and are tried again.
fn tripped(e: &ApiError) -> bool {
    let text = e.to_string();
    text.contains("firewall") || text.contains("nftables") || text.contains("dnsmasq")
}

/// One change of a network's names at a time in this process: the ETag
/// settles changes from elsewhere.
static EDITING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn edit_names(
    client: &Client,
    network: &str,
    action: &str,
    edit: impl Fn(&mut Vec<String>),
) -> Result<()> {
    let path = format!("/1.0/networks/{}", incus_name(network));
    let _one_at_a_time = EDITING.lock().await;
    let mut last = None;
    for attempt in 0..ALIAS_TRIES {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(50 * u64::from(attempt))).await;
        }
        let (found, etag) = client
            .get_tagged(&path)
            .await
            .map_err(|e| refused(action, e))?;
        let current = found["config"]["raw.dnsmasq"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mut lines: Vec<String> = current.lines().map(str::to_owned).collect();
        edit(&mut lines);
        let wanted = lines.join("\n");
        if wanted == current {
            return Ok(());
        }
        let patch = json!({"config": {"raw.dnsmasq": wanted}});
        match client
            .call_if_match(Method::PATCH, &path, &patch, &etag)
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if e.status() == Some(412) || tripped(&e) => last = Some(e),
            Err(e) => return Err(refused(action, e)),
        }
    }
    Err(refused(action, last.expect("tried at least once")))
}

/// Gives instance `container` an interface on `network`: the next `ethN`.
pub(super) async fn attach(client: &Client, network: &str, container: &str) -> Result<()> {
    #[derive(Deserialize)]
    struct Devices {
        #[serde(default, deserialize_with = "super::instances::nullable")]
        devices: HashMap<String, HashMap<String, String>>,
    }
    let action = format!("attaching instance {container} to network {network}");
    let path = format!("/1.0/instances/{container}");
    let current: Devices = client.get(&path).await.map_err(|e| refused(&action, e))?;
    let index = (1..)
        .find(|i| !current.devices.contains_key(&format!("eth{i}")))
        .unwrap_or(1);
    let device = format!("eth{index}");
    let patch = json!({"devices": {device.clone(): {"type": "nic", "name": device, "network": incus_name(network)}}});
    client
        .call(Method::PATCH, &path, &patch)
        .await
        .map(drop)
        .map_err(|e| refused(action, e))
}

pub(super) async fn remove(client: &Client, id: &str) -> Result<()> {
    let path = format!("/1.0/networks/{}", incus_name(id));
    client
        .delete(&path)
        .await
        .map_err(|e| refused(format!("removing network {id}"), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_that_is_no_interface_name_becomes_a_digest() {
        assert_eq!(incus_name("backplane"), "backplane");
        let long = incus_name("footloose-tests-backplane-1234");
        assert_eq!(long.len(), 15);
        assert!(long.starts_with("fl"));
        assert_eq!(long, incus_name("footloose-tests-backplane-1234"));
        assert_ne!(incus_name("a_b"), "a_b");
    }

    #[test]
    fn subnets_are_private_slash_24s_that_change_with_each_attempt() {
        let first = subnet("backplane", 0);
        assert!(
            first.starts_with("10.") && first.ends_with(".1/24"),
            "{first}"
        );
        assert_ne!(first, subnet("backplane", 1));
        assert_eq!(first, subnet("backplane", 0));
    }
}
