//! The product catalogue.

use skinledger_app::products::{
    ClinicReorderPoint, ClinicReorderPointChange, NewProduct, Product, ProductChanges, ProductQuery,
};
use skinledger_app::{Page, PageParams};
use skinledger_domain::ValidationErrors;

use crate::grpc::{field_id, page, parse_depth, pb, time};

impl From<Product> for pb::Product {
    fn from(p: Product) -> Self {
        let Product {
            id,
            kind,
            name,
            maker,
            gtin,
            needle_length_mm,
            needle_count,
            max_depth_mm,
            single_use,
            reorder_point,
            clinic_reorder_points,
            version,
            created_at,
            updated_at,
        } = p;
        pb::Product {
            id: id.to_string(),
            kind: kind.as_str().to_owned(),
            name,
            maker,
            gtin,
            needle_length_mm: needle_length_mm.map(|d| d.mm()),
            needle_count,
            max_depth_mm: max_depth_mm.map(|d| d.mm()),
            single_use,
            reorder_point,
            clinic_reorder_points: clinic_reorder_points.into_iter().map(Into::into).collect(),
            version,
            created_at: time(created_at),
            updated_at: time(updated_at),
        }
    }
}

impl From<ClinicReorderPoint> for pb::ClinicReorderPoint {
    fn from(p: ClinicReorderPoint) -> Self {
        let ClinicReorderPoint {
            clinic_id,
            reorder_point,
        } = p;
        pb::ClinicReorderPoint {
            clinic_id: clinic_id.to_string(),
            reorder_point,
        }
    }
}

impl From<Page<Product>> for pb::ListProductsResponse {
    fn from(page: Page<Product>) -> Self {
        let Page { items, next_cursor } = page;
        pb::ListProductsResponse {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }
    }
}

/// The filters and the page asked for.
pub fn product_query(
    r: pb::ListProductsRequest,
) -> Result<(ProductQuery, PageParams), ValidationErrors> {
    let pb::ListProductsRequest {
        kind,
        gtin,
        limit,
        cursor,
    } = r;
    let mut errors = ValidationErrors::new();
    let query = ProductQuery {
        kind: kind.and_then(|k| errors.check("kind", k.parse())),
        gtin: gtin.and_then(|g| errors.check("gtin", g.parse())),
    };
    errors.into_result()?;
    Ok((query, page(limit, cursor)))
}

/// Clinic reorder points as sent, each clinic id named `clinic_reorder_points[i].clinic_id`
/// when it is not a UUID.
fn reorder_point_changes(
    errors: &mut ValidationErrors,
    sent: Vec<pb::ClinicReorderPointChange>,
) -> Vec<ClinicReorderPointChange> {
    sent.into_iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let pb::ClinicReorderPointChange {
                clinic_id,
                reorder_point,
            } = c;
            let field = format!("clinic_reorder_points[{i}].clinic_id");
            Some(ClinicReorderPointChange {
                clinic_id: field_id(errors, &field, &clinic_id)?,
                reorder_point,
            })
        })
        .collect()
}

impl TryFrom<pb::CreateProductRequest> for NewProduct {
    type Error = ValidationErrors;

    fn try_from(r: pb::CreateProductRequest) -> Result<Self, ValidationErrors> {
        let pb::CreateProductRequest {
            kind,
            name,
            maker,
            gtin,
            needle_length_mm,
            needle_count,
            max_depth_mm,
            single_use,
            reorder_point,
            clinic_reorder_points,
        } = r;
        let mut errors = ValidationErrors::new();
        let kind = errors.check("kind", kind.parse());
        let gtin = gtin.and_then(|g| errors.check("gtin", g.parse()));
        let needle_length_mm =
            needle_length_mm.and_then(|mm| parse_depth(&mut errors, "needle_length_mm", mm));
        let max_depth_mm = max_depth_mm.and_then(|mm| parse_depth(&mut errors, "max_depth_mm", mm));
        let clinic_reorder_points = reorder_point_changes(&mut errors, clinic_reorder_points);
        let (Some(kind), true) = (kind, errors.is_empty()) else {
            return Err(errors);
        };
        Ok(NewProduct {
            kind,
            name,
            maker,
            gtin,
            needle_length_mm,
            needle_count,
            max_depth_mm,
            single_use,
            reorder_point,
            clinic_reorder_points,
        })
    }
}

impl TryFrom<pb::UpdateProductRequest> for ProductChanges {
    type Error = ValidationErrors;

    fn try_from(r: pb::UpdateProductRequest) -> Result<Self, ValidationErrors> {
        let pb::UpdateProductRequest {
            // The product changed and the version last read: the handler reads them first.
            id: _,
            if_match: _,
            name,
            maker,
            gtin,
            needle_length_mm,
            needle_count,
            max_depth_mm,
            single_use,
            reorder_point,
            clinic_reorder_points,
        } = r;
        let mut errors = ValidationErrors::new();
        let gtin = gtin.and_then(|g| errors.check("gtin", g.parse()));
        let needle_length_mm =
            needle_length_mm.and_then(|mm| parse_depth(&mut errors, "needle_length_mm", mm));
        let max_depth_mm = max_depth_mm.and_then(|mm| parse_depth(&mut errors, "max_depth_mm", mm));
        let points = reorder_point_changes(&mut errors, clinic_reorder_points);
        errors.into_result()?;
        Ok(ProductChanges {
            name,
            maker,
            gtin,
            needle_length_mm,
            needle_count,
            max_depth_mm,
            single_use,
            reorder_point,
            // Repeated fields cannot be unset; an empty list changes no clinic, as `null` does.
            clinic_reorder_points: (!points.is_empty()).then_some(points),
        })
    }
}
