//! A machine's CPU and memory limits (`resources:` in its spec), in the
//! units engines take: billionths of a CPU and bytes.

use footloose_config::{MachineInstance, ResourcesError};

use crate::error::{Error, Result};

/// The limits of a machine; `None` where it has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Limits {
    /// CPU time in billionths of a CPU (Docker's `NanoCpus`).
    pub(super) nano_cpus: Option<i64>,
    /// Memory in bytes.
    pub(super) memory_bytes: Option<i64>,
}

/// The limits `machine`'s spec asks for. A config file's values were
/// checked when it was read; one made in code with a value a file may
/// not have is refused here, naming its field.
pub(super) fn limits(machine: &MachineInstance) -> Result<Limits> {
    let resources = &machine.spec.resources;
    let invalid = |field: &str, source: ResourcesError| Error::Setting {
        setting: format!("machines[{}].spec.resources.{field}", machine.set),
        source: Box::new(source),
    };
    Ok(Limits {
        nano_cpus: resources.nano_cpus().map_err(|e| invalid("cpus", e))?,
        memory_bytes: resources.memory_bytes().map_err(|e| invalid("memory", e))?,
    })
}
