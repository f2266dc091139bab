//! The PNG drawing backend: plotters' `BitMapBackend` with its own text rendering.
//!
//! plotters 0.3.7 draws `ab_glyph` text without each glyph's left side bearing (letters
//! sit unevenly: "Yem en") and with its baseline off centre. This backend lays text out
//! with the same advances and kerning plotters measures with, but places every glyph at
//! its exact (sub-pixel) outline bounds, and puts the baseline so that the text is
//! vertically centred on its anchor like the SVG output. Everything else is delegated.

use super::text::{FONT_BOLD, FONT_REGULAR};
use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::prelude::{BitMapBackend, DrawingBackend};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontStyle,
    FontTransform,
};
use std::sync::OnceLock;

pub(super) struct PngBackend<'a>(pub BitMapBackend<'a>);

type Error<'a> = DrawingErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>;

fn face(style: FontStyle) -> Option<&'static FontRef<'static>> {
    static FACES: OnceLock<Option<(FontRef<'static>, FontRef<'static>)>> = OnceLock::new();
    let (regular, bold) = FACES
        .get_or_init(|| {
            Some((
                FontRef::try_from_slice(FONT_REGULAR).ok()?,
                FontRef::try_from_slice(FONT_BOLD).ok()?,
            ))
        })
        .as_ref()?;
    Some(match style {
        FontStyle::Bold => bold,
        _ => regular,
    })
}

impl<'a> DrawingBackend for PngBackend<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), Error<'a>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), Error<'a>> {
        self.0.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), Error<'a>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.0.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.0.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.0.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), Error<'a>> {
        self.0.blit_bitmap(pos, size, src)
    }

    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> Result<(), Error<'a>> {
        let face = match face(style.style()) {
            Some(face) if matches!(style.transform(), FontTransform::None) => face,
            // Rotated text (unused by our charts) keeps plotters' own rendering.
            _ => return self.0.draw_text(text, style, pos),
        };
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        let font = face.as_scaled(PxScale::from(style.size() as f32));

        let mut glyphs = Vec::with_capacity(text.len());
        let mut caret = 0f32;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(previous) = previous {
                caret += font.kern(previous, id);
            }
            glyphs.push((id, caret));
            caret += font.h_advance(id);
            previous = Some(id);
        }

        let anchor = style.anchor();
        let left = pos.0 as f32
            - match anchor.h_pos {
                HPos::Left => 0.0,
                HPos::Center => caret / 2.0,
                HPos::Right => caret,
            };
        let baseline = pos.1 as f32
            + match anchor.v_pos {
                VPos::Top => font.ascent(),
                VPos::Center => (font.ascent() + font.descent()) / 2.0,
                VPos::Bottom => font.descent(),
            };

        let mut result = Ok(());
        for (id, x) in glyphs {
            let glyph = id.with_scale_and_position(font.scale(), point(left + x, baseline));
            let Some(outline) = face.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outline.px_bounds();
            let (x0, y0) = (bounds.min.x as i32, bounds.min.y as i32);
            outline.draw(|gx, gy, coverage| {
                if coverage > 0.0 && result.is_ok() {
                    let pixel = BackendColor {
                        alpha: color.alpha * f64::from(coverage.min(1.0)),
                        rgb: color.rgb,
                    };
                    result = self.0.draw_pixel((x0 + gx as i32, y0 + gy as i32), pixel);
                }
            });
            if result.is_err() {
                break;
            }
        }
        result
    }
}
