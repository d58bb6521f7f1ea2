//! What an executable's ELF headers say about where it can run: machine,
//! OS ABI, kind, and its program interpreter (the dynamic loader whose glibc
//! it needs; none for a static executable). Pure: bytes in, facts out.

/// `e_machine` of x86-64.
pub const MACHINE_X86_64: u16 = 0x3e;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
const PT_INTERP: u32 = 3;
const OSABI_SYSV: u8 = 0;
const OSABI_LINUX: u8 = 3;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    #[error("not an ELF file (no \\x7fELF magic)")]
    NotElf,
    #[error("not a 64-bit little-endian ELF file (class {class}, data {data})")]
    Not64BitLittleEndian { class: u8, data: u8 },
    #[error("the ELF file is cut short: {what} lies past its end")]
    Truncated { what: &'static str },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfInfo {
    pub os_abi: u8,
    /// `e_type`: 2 executable, 3 position-independent (or a shared library).
    pub kind: u16,
    pub machine: u16,
    /// `PT_INTERP`, e.g. `/lib64/ld-linux-x86-64.so.2`; `None` when static.
    pub interpreter: Option<String>,
}

impl ElfInfo {
    /// A program Linux on x86-64 (Lambda's `provided` runtimes) can run.
    pub fn is_linux_x86_64_executable(&self) -> bool {
        self.machine == MACHINE_X86_64
            && matches!(self.os_abi, OSABI_SYSV | OSABI_LINUX)
            && matches!(self.kind, ET_EXEC | ET_DYN)
    }

    /// Needs no dynamic loader, so no particular glibc on the machine.
    pub fn is_static(&self) -> bool {
        self.interpreter.is_none()
    }
}

pub fn parse(bytes: &[u8]) -> Result<ElfInfo, ElfError> {
    if bytes.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err(ElfError::NotElf);
    }
    let (class, data) = (bytes.get(4).copied(), bytes.get(5).copied());
    if class != Some(2) || data != Some(1) {
        return Err(ElfError::Not64BitLittleEndian {
            class: class.unwrap_or(0),
            data: data.unwrap_or(0),
        });
    }
    let header = |offset, what| read(bytes, offset, what);
    let phoff = header(32, "e_phoff")?;
    let phentsize = header(54, "e_phentsize")? & 0xffff;
    let phnum = header(56, "e_phnum")? & 0xffff;
    let mut interpreter = None;
    for i in 0..phnum {
        let entry = phoff + i * phentsize;
        if read(bytes, entry, "a program header")? & 0xffff_ffff != u64::from(PT_INTERP) {
            continue;
        }
        let start = read(bytes, entry + 8, "p_offset")?;
        let size = read(bytes, entry + 32, "p_filesz")?;
        let path = usize::try_from(start)
            .ok()
            .zip(usize::try_from(start + size).ok())
            .and_then(|(start, end)| bytes.get(start..end))
            .ok_or(ElfError::Truncated {
                what: "the interpreter path",
            })?;
        interpreter = Some(
            String::from_utf8_lossy(path)
                .trim_end_matches('\0')
                .to_owned(),
        );
    }
    Ok(ElfInfo {
        os_abi: bytes[7],
        kind: (header(16, "e_type")? & 0xffff) as u16,
        machine: (header(18, "e_machine")? & 0xffff) as u16,
        interpreter,
    })
}

/// Up to 8 little-endian bytes at `offset` (fewer at the very end of the file).
fn read(bytes: &[u8], offset: u64, what: &'static str) -> Result<u64, ElfError> {
    let start = usize::try_from(offset).map_err(|_| ElfError::Truncated { what })?;
    let window = bytes
        .get(start..)
        .filter(|w| w.len() >= 2)
        .ok_or(ElfError::Truncated { what })?;
    let mut buf = [0u8; 8];
    let n = window.len().min(8);
    buf[..n].copy_from_slice(&window[..n]);
    Ok(u64::from_le_bytes(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 header with one program header, optionally PT_INTERP.
    fn elf(kind: u16, machine: u16, interp: Option<&str>) -> Vec<u8> {
        let mut b = vec![0u8; 64 + 56];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[16..18].copy_from_slice(&kind.to_le_bytes());
        b[18..20].copy_from_slice(&machine.to_le_bytes());
        b[32..40].copy_from_slice(&64u64.to_le_bytes());
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&1u16.to_le_bytes());
        let p_type: u32 = if interp.is_some() { PT_INTERP } else { 1 };
        b[64..68].copy_from_slice(&p_type.to_le_bytes());
        if let Some(path) = interp {
            let offset = b.len() as u64;
            b.extend_from_slice(path.as_bytes());
            b.push(0);
            b[72..80].copy_from_slice(&offset.to_le_bytes());
            b[96..104].copy_from_slice(&(path.len() as u64 + 1).to_le_bytes());
        }
        b
    }

    #[test]
    fn a_static_pie_is_a_static_linux_x86_64_executable() {
        let info = parse(&elf(ET_DYN, MACHINE_X86_64, None)).unwrap();
        assert!(info.is_linux_x86_64_executable());
        assert!(info.is_static());
    }

    #[test]
    fn a_dynamic_executable_names_its_loader() {
        let info = parse(&elf(
            ET_EXEC,
            MACHINE_X86_64,
            Some("/lib64/ld-linux-x86-64.so.2"),
        ))
        .unwrap();
        assert_eq!(
            info.interpreter.as_deref(),
            Some("/lib64/ld-linux-x86-64.so.2")
        );
        assert!(!info.is_static());
    }

    #[test]
    fn other_machines_and_files_are_told_apart() {
        let arm = parse(&elf(ET_EXEC, 0xb7, None)).unwrap();
        assert!(!arm.is_linux_x86_64_executable());
        assert_eq!(parse(b"#!/bin/sh\n"), Err(ElfError::NotElf));
        let mut cut = elf(ET_EXEC, MACHINE_X86_64, None);
        cut.truncate(40);
        assert!(matches!(parse(&cut), Err(ElfError::Truncated { .. })));
    }
}
