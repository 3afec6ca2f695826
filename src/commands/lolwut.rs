//! LOLWUT: a piece of computer art and the version, as Redis 7.0 draws it.
//!
//! `LOLWUT [VERSION v] [args ...]` picks the art by version, as Redis's
//! lolwut.c does: 5 draws Georg Nees's "Schotter" (1968), a grid of squares
//! that rotate and drift more the lower the row, in Braille characters
//! (each character is a 2x4 block of pixels); 6 draws a city skyline in
//! ANSI colours (Plaguemon's 8-bit image); anything else, including the
//! default (our version is 7.0.15), is just `Redis ver. 7.0.15`.
//!
//! ```text
//! canvas pixel (x, y)        Braille bit            U+2800 + bits
//!   x,y   x+1,y                 0  3
//!   x,y+1 x+1,y+1               1  4
//!   x,y+2 x+1,y+2               2  5
//!   x,y+3 x+1,y+3               6  7
//! ```
//!
//! The art is random, so only its shape can match Redis's: the same canvas
//! sizes, limits, drawing and the same text under it.

use super::connection::REDIS_VERSION;
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;

/// Largest canvas dimension either piece accepts (columns, rows, squares).
const MAX_COLS: i64 = 1000;
/// Most squares per row or column in Schotter.
const MAX_SQUARES: i64 = 200;

/// A grid of pixels, each a small colour number (0 = background).
struct Canvas {
    width: i64,
    height: i64,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: i64, height: i64, color: u8) -> Canvas {
        let len = usize::try_from(width.max(0) * height.max(0)).unwrap_or(0);
        Canvas {
            width,
            height,
            pixels: vec![color; len],
        }
    }

    fn index(&self, x: i64, y: i64) -> Option<usize> {
        (x >= 0 && x < self.width && y >= 0 && y < self.height)
            .then(|| (x + y * self.width) as usize)
    }

    fn set(&mut self, x: i64, y: i64, color: u8) {
        if let Some(i) = self.index(x, y) {
            self.pixels[i] = color;
        }
    }

    fn get(&self, x: i64, y: i64) -> u8 {
        self.index(x, y).map_or(0, |i| self.pixels[i])
    }

    /// Bresenham's line, as lwDrawLine.
    fn line(&mut self, (mut x1, mut y1): (i64, i64), (x2, y2): (i64, i64), color: u8) {
        let (dx, dy) = ((x2 - x1).abs(), (y2 - y1).abs());
        let sx = if x1 < x2 { 1 } else { -1 };
        let sy = if y1 < y2 { 1 } else { -1 };
        let mut err = dx - dy;
        loop {
            self.set(x1, y1, color);
            if x1 == x2 && y1 == y2 {
                break;
            }
            let e2 = err * 2;
            if e2 > -dy {
                err -= dy;
                x1 += sx;
            }
            if e2 < dx {
                err += dx;
                y1 += sy;
            }
        }
    }

    /// A square of side `size` centred on (x, y), rotated by `angle`.
    fn square(&mut self, x: i64, y: i64, size: f32, angle: f32, color: u8) {
        // The square inscribed in a circle of radius 1 has side sqrt(2).
        let size = (size / std::f32::consts::SQRT_2).round();
        let mut k = std::f32::consts::FRAC_PI_4 + angle;
        let mut points = [(0i64, 0i64); 4];
        for p in &mut points {
            *p = (
                (k.sin() * size + x as f32).round() as i64,
                (k.cos() * size + y as f32).round() as i64,
            );
            k += std::f32::consts::FRAC_PI_2;
        }
        for j in 0..4 {
            self.line(points[j], points[(j + 1) % 4], color);
        }
    }
}

/// A small xorshift generator standing in for C's `rand()` (0..=RAND_MAX).
struct Rand(u64);

/// glibc's RAND_MAX.
const RAND_MAX: i64 = 2_147_483_647;

impl Rand {
    fn seeded() -> Rand {
        let seed = crate::util::now_us() as u64 ^ 0x9e37_79b9_7f4a_7c15;
        Rand(seed | 1)
    }

    fn next(&mut self) -> i64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 33) as i64 & RAND_MAX
    }
}

/// Parses LOLWUT's optional numeric arguments over their defaults.
fn numeric_args(args: &[&[u8]], defaults: &mut [i64]) -> CmdResult {
    for (slot, arg) in defaults.iter_mut().zip(args) {
        *slot = parse_i64(arg).ok_or(CmdError::NotInteger)?;
    }
    Ok(())
}

/// LOLWUT VERSION 5 [cols [squares-per-row [squares-per-col]]].
fn schotter(args: &[&[u8]]) -> Result<String, CmdError> {
    let mut opts = [66, 8, 12];
    numeric_args(args, &mut opts)?;
    let cols = opts[0].clamp(1, MAX_COLS);
    let per_row = opts[1].clamp(1, MAX_SQUARES);
    let per_col = opts[2].clamp(1, MAX_SQUARES);
    let width = cols * 2;
    let padding = if width > 4 { 2 } else { 0 };
    let side = (width - padding * 2) as f32 / per_row as f32;
    let height = (side * per_col as f32) as i64 + padding * 2;
    let mut canvas = Canvas::new(width, height, 0);
    let mut rand = Rand::seeded();
    for y in 0..per_col {
        for x in 0..per_row {
            let mut sx = (x as f32 * side + side / 2.0) as i64 + padding;
            let mut sy = (y as f32 * side + side / 2.0) as i64 + padding;
            let mut angle = 0.0;
            // Lower rows rotate and drift more.
            if y > 1 {
                let mut r = [0f32; 3];
                for v in &mut r {
                    *v = rand.next() as f32 / RAND_MAX as f32 / per_col as f32 * y as f32;
                }
                for v in &mut r {
                    if rand.next() % 2 == 1 {
                        *v = -*v;
                    }
                }
                angle = r[0];
                sx = (sx as f32 + r[1] * side / 3.0) as i64;
                sy = (sy as f32 + r[2] * side / 3.0) as i64;
            }
            canvas.square(sx, sy, side, angle, 1);
        }
    }
    let mut text = String::new();
    let mut y = 0;
    while y < canvas.height {
        let mut x = 0;
        while x < canvas.width {
            let bits = [
                (0, 0),
                (0, 1),
                (0, 2),
                (1, 0),
                (1, 1),
                (1, 2),
                (0, 3),
                (1, 3),
            ];
            let mut byte = 0u32;
            for (bit, (dx, dy)) in bits.iter().enumerate() {
                if canvas.get(x + dx, y + dy) != 0 {
                    byte |= 1 << bit;
                }
            }
            text.push(char::from_u32(0x2800 + byte).unwrap_or(' '));
            x += 2;
        }
        if y != canvas.height - 1 {
            text.push('\n');
        }
        y += 4;
    }
    text.push_str("\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ");
    text.push_str(REDIS_VERSION);
    text.push('\n');
    Ok(text)
}

/// One skyscraper of the skyline.
struct Skyscraper {
    xoff: i64,
    width: i64,
    height: i64,
    windows: bool,
    color: u8,
}

fn draw_skyscraper(canvas: &mut Canvas, s: &Skyscraper, rand: &mut Rand) {
    let start_y = canvas.height - 1;
    let end_y = start_y - s.height + 1;
    let mut y = start_y;
    while y >= end_y {
        for x in s.xoff..s.xoff + s.width {
            // The roof is four pixels narrower.
            if y == end_y && (x <= s.xoff + 1 || x >= s.xoff + s.width - 2) {
                continue;
            }
            let mut color = s.color;
            if s.windows
                && x > s.xoff + 1
                && x < s.xoff + s.width - 2
                && y > end_y + 1
                && y < start_y - 1
            {
                let rel_x = x - (s.xoff + 1);
                let rel_y = y - (end_y + 1);
                // Windows two pixels wide, one tall (terminal cells are tall).
                if (rel_x / 2) % 2 != 0 && rel_y % 2 != 0 {
                    loop {
                        color = 1 + (rand.next() % 2) as u8;
                        if color != s.color {
                            break;
                        }
                    }
                    if rel_x % 2 != 0 {
                        color = canvas.get(x - 1, y);
                    }
                }
            }
            canvas.set(x, y, color);
        }
        y -= 1;
    }
}

/// LOLWUT VERSION 6 [cols [rows]].
fn skyline(args: &[&[u8]]) -> Result<String, CmdError> {
    let mut opts = [80, 20];
    numeric_args(args, &mut opts)?;
    let cols = opts[0].clamp(1, MAX_COLS);
    let rows = opts[1].clamp(1, MAX_COLS);
    let mut canvas = Canvas::new(cols, rows, 3);
    let mut rand = Rand::seeded();
    // Background buildings first, the lighter grey furthest back.
    for color in [2u8, 1] {
        let mut offset = -10;
        while offset < canvas.width {
            offset += rand.next() % 8;
            let width = 10 + rand.next() % 9;
            let height = if color == 2 {
                canvas.height / 2 + (rand.next() % canvas.height) / 2
            } else {
                canvas.height / 2 + (rand.next() % canvas.height) / 3
            };
            let s = Skyscraper {
                xoff: offset,
                width,
                height,
                windows: false,
                color,
            };
            draw_skyscraper(&mut canvas, &s, &mut rand);
            offset += if color == 2 { width / 2 } else { width + 1 };
        }
    }
    // Then the black foreground buildings with lit windows.
    let mut offset = -10;
    while offset < canvas.width {
        offset += rand.next() % 8;
        let mut width = 5 + rand.next() % 14;
        if width % 4 != 0 {
            width += width % 3;
        }
        let height = canvas.height / 3 + (rand.next() % canvas.height) / 2;
        let s = Skyscraper {
            xoff: offset,
            width,
            height,
            windows: true,
            color: 0,
        };
        draw_skyscraper(&mut canvas, &s, &mut rand);
        offset += width + 5;
    }
    let mut text = String::new();
    for y in 0..canvas.height {
        for x in 0..canvas.width {
            let escape = match canvas.get(x, y) {
                1 => "0;90;100m",
                2 => "0;37;47m",
                3 => "0;97;107m",
                _ => "0;30;40m",
            };
            text.push_str("\x1b[");
            text.push_str(escape);
            text.push_str(" \x1b[0m");
        }
        if y != canvas.height - 1 {
            text.push('\n');
        }
    }
    text.push_str(
        "\nDedicated to the 8 bit game developers of past and present.\n\
         Original 8 bit image from Plaguemon by hikikomori. Redis ver. ",
    );
    text.push_str(REDIS_VERSION);
    text.push('\n');
    Ok(text)
}

/// The text LOLWUT replies for `args` (the command name excluded).
pub fn lolwut_text(args: &[&[u8]]) -> Result<String, CmdError> {
    let (version, rest) = match args {
        [kw, v, rest @ ..] if kw.eq_ignore_ascii_case(b"VERSION") => {
            // Redis prints the number as a C unsigned int: it wraps.
            let v = parse_i64(v).ok_or(CmdError::NotInteger)?;
            (Some(v as u32), rest)
        }
        _ => (None, args),
    };
    match version {
        Some(5) => schotter(rest),
        Some(6) => skyline(rest),
        _ => Ok(format!("Redis ver. {REDIS_VERSION}\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_other_versions_print_the_version() {
        assert_eq!(lolwut_text(&[]).unwrap(), "Redis ver. 7.0.15\n");
        assert_eq!(lolwut_text(&[b"foo"]).unwrap(), "Redis ver. 7.0.15\n");
        assert_eq!(
            lolwut_text(&[b"VERSION", b"7"]).unwrap(),
            "Redis ver. 7.0.15\n"
        );
        assert!(lolwut_text(&[b"version", b"x"]).is_err());
    }

    #[test]
    fn schotter_has_redis_shape() {
        let text = lolwut_text(&[b"VERSION", b"5", b"1", b"1", b"1"]).unwrap();
        assert_eq!(
            text,
            "\u{280b}\n\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n"
        );
        let text = lolwut_text(&[b"VERSION", b"5"]).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // 66 columns; (132-4)/8*12+4 = 196 pixel rows = 49 text rows,
        // an empty line (the last row is not the canvas's last pixel row),
        // then the caption.
        assert_eq!(lines.len(), 49 + 2);
        assert_eq!(lines[49], "");
        assert!(lines[..49].iter().all(|l| l.chars().count() == 66));
    }

    #[test]
    fn skyline_has_redis_shape() {
        let text = lolwut_text(&[b"VERSION", b"6", b"10", b"3"]).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3 + 2);
        assert!(lines[..3]
            .iter()
            .all(|l| l.matches("\x1b[0m").count() == 10));
        assert!(lines[4].ends_with("Redis ver. 7.0.15"));
    }
}
