//! Copying files and directory trees to and from a machine. Files go over
//! scp with their permissions; directories as a tar stream through the
//! machine's `tar`, which keeps permissions and links.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::connection::Connection;
use crate::error::{Error, Result};
use crate::machine::MachineError;

const CHUNK: usize = 256 * 1024;

/// Quotes `s` for a POSIX shell.
pub(crate) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Connection {
    /// Copies the local file or directory `local` to `remote`. A directory
    /// lands as `remote` itself (created, with parents), like `cp -r a b`
    /// when `b` does not exist.
    pub fn copy_to(&self, local: &Path, remote: &str) -> Result<()> {
        let meta = fs::metadata(local).map_err(|e| Error::io("cannot read", local, e))?;
        if meta.is_dir() {
            let mut archive = tar::Builder::new(Vec::new());
            archive.follow_symlinks(false);
            archive
                .append_dir_all(".", local)
                .map_err(|e| Error::io("cannot archive", local, e))?;
            let bytes = archive
                .into_inner()
                .map_err(|e| Error::io("cannot archive", local, e))?;
            let quoted = shell_quote(remote);
            let command = format!("mkdir -p {quoted} && tar -x --no-same-owner -C {quoted}");
            self.exec(&command, &bytes, None)?.checked()?;
            return Ok(());
        }
        let mut file = fs::File::open(local).map_err(|e| Error::io("cannot read", local, e))?;
        let mode = (meta.permissions().mode() & 0o7777) as i32;
        let mut channel = self
            .session
            .scp_send(Path::new(remote), mode, meta.len(), None)
            .map_err(|e| self.error(&format!("starting the copy to {remote}"), e))?;
        // The file's data goes out from here: a copy cut short is reported
        // as such, never redone over what it left.
        self.commit();
        let mut buffer = vec![0u8; CHUNK];
        loop {
            let n = file
                .read(&mut buffer)
                .map_err(|e| Error::io("cannot read", local, e))?;
            if n == 0 {
                break;
            }
            channel
                .write_all(&buffer[..n])
                .map_err(|e| self.error(&format!("copying to {remote}"), e))?;
        }
        channel
            .send_eof()
            .and_then(|_| channel.wait_eof())
            .and_then(|_| channel.close())
            .and_then(|_| channel.wait_close())
            .map_err(|e| self.error(&format!("finishing the copy to {remote}"), e))
    }

    /// Copies the remote file or directory `remote` to `local`.
    pub fn copy_from(&self, remote: &str, local: &Path) -> Result<()> {
        let quoted = shell_quote(remote);
        let kind = self
            .exec(&format!("if [ -d {quoted} ]; then echo dir; elif [ -e {quoted} ]; then echo file; else echo missing; fi"), &[], None)?
            .checked()?
            .stdout();
        match kind.trim() {
            "dir" => {
                let out = self
                    .exec(&format!("tar -c -C {quoted} ."), &[], None)?
                    .checked()?;
                fs::create_dir_all(local).map_err(|e| Error::io("cannot create", local, e))?;
                let mut archive = tar::Archive::new(out.stdout.as_slice());
                archive.set_preserve_permissions(true);
                archive
                    .unpack(local)
                    .map_err(|e| Error::io("cannot unpack into", local, e))
            }
            "file" => {
                let (mut channel, stat) = self
                    .session
                    .scp_recv(Path::new(remote))
                    .map_err(|e| self.error(&format!("starting the copy of {remote}"), e))?;
                let mut file =
                    fs::File::create(local).map_err(|e| Error::io("cannot create", local, e))?;
                let mut buffer = vec![0u8; CHUNK];
                let mut left = stat.size();
                while left > 0 {
                    let want = buffer.len().min(left as usize);
                    let n = channel
                        .read(&mut buffer[..want])
                        .map_err(|e| self.error(&format!("copying {remote}"), e))?;
                    if n == 0 {
                        break;
                    }
                    file.write_all(&buffer[..n])
                        .map_err(|e| Error::io("cannot write", local, e))?;
                    left -= n as u64;
                }
                fs::set_permissions(
                    local,
                    fs::Permissions::from_mode(stat.mode() as u32 & 0o7777),
                )
                .map_err(|e| Error::io("cannot set permissions of", local, e))?;
                let _ = channel.send_eof();
                let _ = channel.wait_close();
                Ok(())
            }
            _ => Err(Error::Machine(MachineError::NoSuchFile {
                machine: self.machine.clone(),
                path: remote.to_owned(),
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(shell_quote("/a b"), "'/a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
