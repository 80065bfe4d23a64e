//! The set of served resource types: built-ins plus whatever CRDs registered.

use std::collections::BTreeMap;
use std::sync::RwLock;

use crate::resources::{ResourceType, builtin_resources};

#[derive(Debug)]
pub struct Registry {
    builtins: Vec<ResourceType>,
    /// CRD name → the resource types it serves (one per served version).
    custom: RwLock<BTreeMap<String, Vec<ResourceType>>>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    pub fn new() -> Self {
        Registry {
            builtins: builtin_resources(),
            custom: RwLock::new(BTreeMap::new()),
        }
    }

    /// Every served resource type, built-ins first.
    pub fn all(&self) -> Vec<ResourceType> {
        let custom = self.custom.read().unwrap_or_else(|e| e.into_inner());
        self.builtins
            .iter()
            .cloned()
            .chain(custom.values().flatten().cloned())
            .collect()
    }

    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<ResourceType> {
        self.all()
            .into_iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    pub fn register_crd(&self, crd_name: &str, types: Vec<ResourceType>) {
        let mut custom = self.custom.write().unwrap_or_else(|e| e.into_inner());
        custom.insert(crd_name.to_string(), types);
    }

    pub fn unregister_crd(&self, crd_name: &str) -> Vec<ResourceType> {
        let mut custom = self.custom.write().unwrap_or_else(|e| e.into_inner());
        custom.remove(crd_name).unwrap_or_default()
    }

    /// Groups with their versions in first-seen order; the first version is preferred.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for r in self.all() {
            match groups.iter_mut().find(|(g, _)| *g == r.group) {
                Some((_, versions)) if !versions.contains(&r.version) => {
                    versions.push(r.version.clone())
                }
                Some(_) => {}
                None => groups.push((r.group.clone(), vec![r.version.clone()])),
            }
        }
        groups
    }
}
